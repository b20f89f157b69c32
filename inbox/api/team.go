package api

import (
	"net/http"

	"github.com/switchboard/switchboard/inbox"
)

// team: ?period=today|week (leads and the owner).
func (h *api) team(w http.ResponseWriter, r *http.Request) {
	t, err := h.app.Team(r.Context(), userOf(r).User, r.URL.Query().Get("period"))
	respond(h, w, r, t, err)
}

// teamConversations: ?user_id= (absent: the unassigned queue)
// &metric=open|waiting|overdue|unlinked (leads and the owner).
func (h *api) teamConversations(w http.ResponseWriter, r *http.Request) {
	id, err := queryID(r, "user_id")
	var out inbox.ConversationList
	if err == nil {
		out, err = h.app.TeamConversations(r.Context(), userOf(r).User, id, r.URL.Query().Get("metric"))
	}
	respond(h, w, r, out, err)
}
