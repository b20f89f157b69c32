package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/switchboard/switchboard/crm"
)

// UnreadableList is the owner's list of mail with no readable sender.
type UnreadableList struct {
	Mail []crm.UnreadableMail `json:"mail"`
}

func (h *api) listUnreadable(w http.ResponseWriter, r *http.Request) {
	ms, err := h.app.Unreadable(r.Context(), userOf(r).User)
	respond(h, w, r, UnreadableList{Mail: ms}, err)
}

// downloadUnreadable serves the original message as an .eml download.
func (h *api) downloadUnreadable(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var m crm.UnreadableMail
	var rc io.ReadCloser
	if err == nil {
		m, rc, err = h.app.OpenUnreadable(r.Context(), userOf(r).User, id)
	}
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("unreadable-%d.eml", m.ID)}))
	w.Header().Set("Content-Length", strconv.FormatInt(m.RawSize, 10))
	w.Header().Set("Content-Security-Policy", "sandbox")
	io.Copy(w, rc)
}
