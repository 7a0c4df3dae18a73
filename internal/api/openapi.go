package api

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDocument describes every route, parameter, body, answer and problem of /v1 (OpenAPI
// 3.1). Tests validate live answers against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the document served at /openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		apiHeaders(w)
		writeProblem(w, problem(http.StatusMethodNotAllowed, codeMethodNotAllowed,
			r.Method+" is not allowed here; use GET.").with("Allow", "GET, HEAD"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(openAPIDocument)
}
