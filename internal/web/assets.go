package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// The vendored assets: see assets/README.md. Their names carry their versions, so they can be
// cached for a year.
const (
	assetPrefix = "/admin/assets/"
	cssFile     = "nhsuk-frontend-10.6.1.min.css"
	jsFile      = "htmx-2.0.11.min.js"
)

//go:embed assets/*.css assets/*.js
var assetFS embed.FS

func assetHandler() http.Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix(assetPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(sub, r.URL.Path[len(assetPrefix):]); err != nil || r.URL.Path == assetPrefix {
			w.Header().Set("Cache-Control", "no-store")
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
}
