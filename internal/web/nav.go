package web

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// navItem is one entry of the navigation every staff page carries.
type navItem struct {
	Label   string
	Href    string
	Current bool // the page being shown (aria-current="page")
}

// practiceNav is every page of one practice, in the order staff set a practice up and run it.
// "Booking links" is the patient booking links' page (issue 12, another branch).
var practiceNav = []struct{ label, suffix string }{
	{"Practice", ""},
	{"Diary", "/diary"},
	{"Mapping", "/mapping"},
	{"Bookings", "/bookings"},
	{"Booking links", "/booking-links"},
	{"API keys", "/api-keys"},
	{"Webhooks", "/webhooks"},
	{"Why can’t I see a slot?", "/why"},
}

// navFor is the navigation for a page at path: the practice in the path (or the practice
// user's own), then everything across practices.
func navFor(path string, v *viewer, practiceID int64) []navItem {
	if v == nil {
		return nil
	}
	var items []navItem
	if v.Support {
		items = append(items, navItem{Label: "All practices", Href: "/admin/"})
	}
	if practiceID == 0 && !v.Support {
		practiceID = v.PracticeID
	}
	if practiceID > 0 {
		home := "/admin/practices/" + strconv.FormatInt(practiceID, 10)
		for _, p := range practiceNav {
			items = append(items, navItem{Label: p.label, Href: home + p.suffix})
		}
	}
	items = append(items, navItem{Label: "Connection form", Href: "/admin/connect"})
	for i := range items {
		h := items[i].Href
		// A page's own sub-pages (mapping/…) keep it current; the practice page is current only itself.
		items[i].Current = path == h || (h != "/admin/" && !strings.HasSuffix(h, "/"+strconv.FormatInt(practiceID, 10)) &&
			strings.HasPrefix(path, h+"/"))
	}
	return items
}

// setNav is how render gives a view its navigation.
func (b *base) setNav(items []navItem) { b.Nav = items }

// withNav gives a page's view its navigation, worked out from the request so that no handler
// has to: the view is copied into a new value because handlers pass views by value.
func withNav(r *http.Request, data any) any {
	if r == nil || data == nil {
		return data
	}
	type navSetter interface {
		setNav([]navItem)
		viewerOf() *viewer
	}
	out := data
	if rv := reflect.ValueOf(data); rv.Kind() == reflect.Struct {
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		out = p.Interface()
	}
	setter, ok := out.(navSetter)
	if !ok {
		return data
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	setter.setNav(navFor(r.URL.Path, setter.viewerOf(), id))
	return out
}

func (b *base) viewerOf() *viewer { return b.User }
