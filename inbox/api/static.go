package api

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

// uiHandler serves the single-page UI: files as they are, with a long
// cache for versioned folders (assets/, vendor/<name>-<version>/), and
// index.html (no-cache) for any other path so that client-side routes load.
// /api/ never falls back (see Handler).
func uiHandler(ui fs.FS) http.Handler {
	files := http.FileServerFS(ui)
	csp := uiCSP(ui)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if p == "" || p == "index.html" {
			serveIndex(w, r, ui, csp)
			return
		}
		if _, err := fs.Stat(ui, p); err != nil {
			serveIndex(w, r, ui, csp)
			return
		}
		if strings.HasPrefix(p, "assets/") || strings.HasPrefix(p, "vendor/") && strings.Count(p, "/") >= 2 {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			// The app's own modules keep their names across releases.
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

func serveIndex(w http.ResponseWriter, r *http.Request, ui fs.FS, csp string) {
	b, err := fs.ReadFile(ui, "index.html")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Write(b)
}

// importMap finds index.html's inline import map, the one inline script
// the page has.
var importMap = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)

// uiCSP is the page's Content-Security-Policy. Scripts come only from our
// origin, plus the inline import map allowed by its hash. Email HTML is
// shown in <iframe sandbox> loading a page of ours with its own, stricter
// policy (email.go), the only place a remote image may load, and only when
// the user asks. Styles may be inline. Pictures and sounds come from our
// origin only (attachment previews, recordings kept as attachments), or
// are data: URLs. A recording on a PBX's own server is a link, never
// loaded into the page.
func uiCSP(ui fs.FS) string {
	script := "script-src 'self'"
	if b, err := fs.ReadFile(ui, "index.html"); err == nil {
		if m := importMap.FindSubmatch(b); m != nil {
			sum := sha256.Sum256(m[1])
			script += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		}
	}
	return "default-src 'self'; " + script + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}
