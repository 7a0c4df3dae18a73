package e2e_test

import (
	"testing"

	"github.com/chromedp/chromedp/kb"

	"herolink/internal/browsertest"
	"herolink/internal/emis/sandbox"
)

// TestAPracticeManagerActivatesHeroHealthInTheSandboxWithTheKeyboardAlone: the sandbox's "EMIS
// Web" is operable without a mouse too: the organisation, the EMIS ball menu (a disclosure
// opened with Enter), EMAS Manager, the product and Activate Application, each reached with Tab
// and its focus visible.
func TestAPracticeManagerActivatesHeroHealthInTheSandboxWithTheKeyboardAlone(t *testing.T) {
	pr := browsertest.StartProduct(t)
	p := browsertest.Open(t, pr.SandboxURL+"/", browsertest.DesktopWidth)
	p.TabTo(`link "` + sandbox.SecondDemoName + `"`)
	p.PressAndLoad(kb.Enter)
	p.TabTo(`button "EMIS ball"`)
	p.Press(kb.Enter) // opens the menu in place
	p.TabTo(`link "EMAS Manager"`)
	p.PressAndLoad(kb.Enter)
	p.TabTo(`link "Hero Health"`)
	p.PressAndLoad(kb.Enter)
	p.TabTo(`button "Activate Application"`)
	p.PressAndLoad(kb.Enter)
	p.MustSee("Hero Health activated", "Activated. Next: Edit Users")
	p.Audit("sandbox-emas-manager-keyboard")
}
