package api

import (
	"fmt"
	"io"
	"net/http"

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
	sendFile(w, "message/rfc822", "attachment", fmt.Sprintf("unreadable-%d.eml", m.ID), m.RawSize, rc)
}
