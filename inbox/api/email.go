package api

import (
	"io"
	"net/http"
)

// emailCSP is the policy of an email's page in the timeline's frame. The
// page is sandboxed (no script, no form, no popup, no origin of its own,
// whatever the frame says); its pictures are data: URLs made from the
// stored inline parts, and with remote the pictures of other hosts, which
// only then load: a remote image is a read receipt for its sender.
func emailCSP(remote bool) string {
	img := "data:"
	if remote {
		img += " http: https:"
	}
	return "sandbox; default-src 'none'; img-src " + img + "; style-src 'unsafe-inline'; font-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
}

// emailHead opens an email's page: links open outside the frame, and the
// mail fits its width.
const emailHead = `<!doctype html><html><head><meta charset="utf-8"><base target="_blank">` +
	`<style>body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2433;margin:10px;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}</style>` +
	`</head><body>`

// emailPage serves a touch's sanitized email HTML as a page for the
// timeline's sandboxed frame (inbox.App.EmailPage); ?remote=1 also loads
// its remote images, when the user asked for them.
func (h *api) emailPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	remote := r.URL.Query().Get("remote") == "1"
	var page string
	if err == nil {
		page, err = h.app.EmailPage(r.Context(), userOf(r).User, id, remote)
	}
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", emailCSP(remote))
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "private, no-cache")
	io.WriteString(w, emailHead+page+"</body></html>")
}
