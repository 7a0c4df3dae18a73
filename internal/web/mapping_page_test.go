package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"herolink/internal/store"
)

var editLink = regexp.MustCompile(`href="(/admin/practices/\d+/mapping\?edit=practitioners-(\d+)#practitioners-\d+)">Edit<span class="nhsuk-u-visually-hidden"> ([^<]+)</span>`)

// The mapping page reads at a glance: each practitioner and location is one line of text with
// an Edit link, and only the row being edited shows inputs, Save and (apart) Delete.
func TestMappingRowsReadAtAGlanceAndEditOpensOneRowsFormWithoutJavaScript(t *testing.T) {
	b := setup(t)
	id := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	c := b.signedIn(t, "pm", store.RolePractice, id)
	holders := b.demo.ListHolders()
	c.post(mapPath(id, "/mapping/refresh"), url.Values{})
	page := c.post(mapPath(id, "/mapping/import"), url.Values{})
	mustSay(t, page, "Imported from EMIS: 8 practitioners and 2 locations added.")

	page = c.get(mapPath(id, "/mapping"))
	links := editLink.FindAllStringSubmatch(page.body, -1)
	if len(links) != 8 {
		t.Fatalf("%d practitioners' Edit links, want 8:\n%s", len(links), page.body)
	}
	for _, unwanted := range []string{`/mapping/practitioners/` + links[0][2] + `"`, `/delete"`, `name="emis_holder_id" form=`, `>Save<span class="nhsuk-u-visually-hidden"> ` + links[0][3]} {
		if strings.Contains(page.body, unwanted) {
			t.Errorf("a row not being edited shows a form (%s)", unwanted)
		}
	}
	if n := strings.Count(page.body, "<form"); n > 30 {
		t.Errorf("the page holds %d forms: every row is still a form", n)
	}

	// Edit opens that row alone, with Save, Cancel and, in its own form, Delete.
	open := c.get(links[0][1])
	pid := links[0][2]
	mustHave(t, open,
		fmt.Sprintf(`<form action="/admin/practices/%d/mapping/practitioners/%s" method="post">`, id, pid),
		fmt.Sprintf(`<form action="/admin/practices/%d/mapping/practitioners/%s/delete" method="post">`, id, pid),
		`id="practitioner-`+pid+`-name" name="name" type="text" maxlength="100" value="`+links[0][3]+`"`,
		`Cancel<span class="nhsuk-u-visually-hidden"> changing `+links[0][3])
	if strings.Count(open.body, "/delete\"") != 1 {
		t.Errorf("more than the edited row offers Delete")
	}
	save := strings.Index(open.body, "mapping/practitioners/"+pid+`" method="post"`)
	del := strings.Index(open.body, "mapping/practitioners/"+pid+`/delete"`)
	if save < 0 || del < save {
		t.Errorf("Delete is not after Save in its own form")
	}

	// Mapping the row to a session holder another practitioner has is refused in words, and the
	// row stays open with what was typed.
	taken := holders[1].ID
	r := c.send(http.MethodPost, mapPath(id, "/mapping/practitioners/"+pid), url.Values{"name": {"Dr Typed"}, "emis_holder_id": {fmt.Sprint(taken)}}, nil)
	if r.status != http.StatusConflict {
		t.Fatalf("mapping to a taken holder: %d", r.status)
	}
	mustSay(t, r, "is already mapped to it")
	mustHave(t, r, `id="practitioner-`+pid+`-name" name="name" type="text" maxlength="100" value="Dr Typed"`,
		`<a href="#practitioner-`+pid+`-emis">Dr Typed cannot be mapped`, `<span class="nhsuk-error-message" id="practitioner-edit-error">`)

	// The same refusal when adding: the add form opens with what was typed and the summary links to it.
	r = c.send(http.MethodPost, mapPath(id, "/mapping/practitioners"), url.Values{"name": {"Dr New"}, "emis_holder_id": {fmt.Sprint(taken)}}, nil)
	if r.status != http.StatusConflict {
		t.Fatalf("adding on a taken holder: %d", r.status)
	}
	mustHave(t, r, `<a href="#new-practitioner-emis">Dr New cannot be mapped`, `<details class="nhsuk-details" open>`,
		`<span class="nhsuk-error-message" id="new-practitioner-error">`)
	r = c.send(http.MethodPost, mapPath(id, "/mapping/practitioners"), url.Values{"name": {" "}}, nil)
	mustHave(t, r, `<a href="#new-practitioner-name">Enter a name for the practitioner.</a>`)
	if !strings.HasPrefix(pageTitle(t, r), "Error: ") {
		t.Errorf("the refused change's page is titled %q", pageTitle(t, r))
	}
}
