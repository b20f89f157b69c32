package inbox

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// uiHandler serves the single-page UI: files as they are, with a long
// cache for hashed assets, and index.html (no-cache) for any other path so
// that client-side routes load. /api/ never falls back (see Handler).
func uiHandler(ui fs.FS) http.Handler {
	files := http.FileServerFS(ui)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if p == "" || p == "index.html" {
			serveIndex(w, r, ui)
			return
		}
		if _, err := fs.Stat(ui, p); err != nil {
			serveIndex(w, r, ui)
			return
		}
		if strings.HasPrefix(p, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})
}

func serveIndex(w http.ResponseWriter, r *http.Request, ui fs.FS) {
	b, err := fs.ReadFile(ui, "index.html")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-src 'self'; object-src 'none'; base-uri 'none'")
	w.Write(b)
}
