package api

import (
	"net/http"

	"github.com/switchboard/switchboard/inbox"
)

// dial is a click-to-call: the PBX rings the manager's extension, then the
// contact's phone; the progress comes as call.dial events.
func (h *api) dial(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req inbox.DialRequest
	if err == nil {
		err = decode(r, &req)
	}
	var out inbox.DialStarted
	if err == nil {
		out, err = h.app.Dial(r.Context(), userOf(r).User, id, req)
	}
	respond(h, w, r, out, err)
}
