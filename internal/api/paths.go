package api

import (
	"net/http"
	"path"
	"strings"
)

// frontDoor answers, before the mux, the requests the mux would answer with a redirect: /v1
// itself (to /v1/) and paths that are not clean (/v1//slots, /v1/./slots, /v1/slots/..). A
// redirect's body is an HTML page, and a client that follows it sends its credentials somewhere
// it did not name; a partner's client gets the problem+json 404 of any unknown /v1 path.
func frontDoor(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		if p == "/v1" || p != cleanPath(p) {
			apiHeaders(w)
			writeProblem(w, unknownRoute(r))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func unknownRoute(r *http.Request) *Problem {
	return problem(http.StatusNotFound, codeNotFound, "There is nothing at "+r.URL.Path+". See /openapi.json for the routes.")
}

// cleanPath is the path net/http's ServeMux would redirect to: dot segments and doubled
// slashes removed, a trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// UnderV1 says whether a request path (escaped, as it came) belongs to the partner API: /v1,
// anything below it, or anything that cleans to either (/v1/../v1/slots, //v1/slots).
func UnderV1(escapedPath string) bool {
	under := func(p string) bool { return p == "/v1" || strings.HasPrefix(p, "/v1/") }
	return under(escapedPath) || under(cleanPath(escapedPath))
}
