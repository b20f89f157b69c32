package api

import (
	"net/http"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// listConversations: ?filter=mine|unassigned|unlinked|waiting|callback|all &status= &channel= &contact_id= &q= &cursor= &limit=
func (h *api) listConversations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := crm.ConversationFilter{Status: q.Get("status"), Channel: q.Get("channel"), Q: q.Get("q"), Cursor: q.Get("cursor"), Limit: queryInt(r, "limit")}
	var err error
	var out inbox.ConversationList
	if f.ContactID, err = queryID(r, "contact_id"); err == nil {
		out, err = h.app.ListConversations(r.Context(), userOf(r).User, inbox.Queue(q.Get("filter")), f)
	}
	respond(h, w, r, out, err)
}

func (h *api) getConversation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var d inbox.ConversationDetail
	if err == nil {
		d, err = h.app.Conversation(r.Context(), userOf(r).User, id, queryInt(r, "limit"))
	}
	respond(h, w, r, d, err)
}

// AssignRequest assigns (user_id) or returns to the queue (null).
type AssignRequest struct {
	UserID *int64 `json:"user_id"`
}

func (h *api) assignConversation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req AssignRequest
	if err == nil {
		err = decode(r, &req)
	}
	var c crm.Conversation
	if err == nil {
		c, err = h.app.AssignConversation(r.Context(), userOf(r).User, id, req.UserID)
	}
	respond(h, w, r, c, err)
}

// StatusRequest opens, snoozes (until) or closes a conversation.
type StatusRequest struct {
	Status string     `json:"status"`
	Until  *time.Time `json:"until"`
}

func (h *api) setConversationStatus(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req StatusRequest
	if err == nil {
		err = decode(r, &req)
	}
	var c crm.Conversation
	if err == nil {
		c, err = h.app.SetConversationStatus(r.Context(), userOf(r).User, id, crm.ConversationStatus(req.Status), req.Until)
	}
	respond(h, w, r, c, err)
}

// reply queues a manager's reply (inbox.App.Reply).
func (h *api) reply(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req inbox.ReplyRequest
	if err == nil {
		err = decodeN(r, &req, inbox.MaxReplyFiles*4/3+maxJSONBody) // files travel as base64
	}
	var t crm.Touch
	if err == nil {
		t, err = h.app.Reply(r.Context(), userOf(r).User, id, req)
	}
	respond(h, w, r, t, err)
}

// retryReply sends a failed reply again (inbox.App.RetryReply): the same
// touch, queued anew.
func (h *api) retryReply(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var t crm.Touch
	if err == nil {
		t, err = h.app.RetryReply(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, t, err)
}

// queueCounts answers GET /api/v1/queues/counts: the exact size of every
// queue as the list shows it to this user.
func (h *api) queueCounts(w http.ResponseWriter, r *http.Request) {
	c, err := h.app.QueueCounts(r.Context(), userOf(r).User)
	respond(h, w, r, c, err)
}

// reminders answers GET /api/v1/reminders: the touches the user was
// reminded of that are still unlinked.
func (h *api) reminders(w http.ResponseWriter, r *http.Request) {
	out, err := h.app.Reminders(r.Context(), userOf(r).User)
	respond(h, w, r, out, err)
}
