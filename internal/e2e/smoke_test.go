package e2e_test

import (
	"testing"

	"herolink/internal/browsertest"
)

func TestSmoke(t *testing.T) {
	pr := browsertest.StartProduct(t)
	p := browsertest.NewPage(t, browsertest.DesktopWidth)
	pr.SignInAsSupport(p)
	p.Audit("overview")
	t.Log(p.Title())
}
