package inbox

import (
	"net/http"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// ConversationList is a page of the inbox.
type ConversationList struct {
	Conversations []ConversationItem `json:"conversations"`
	NextCursor    string             `json:"next_cursor"`
}

// ConversationItem is a conversation with its contact's name, for the list.
type ConversationItem struct {
	crm.Conversation
	ContactName string `json:"contact_name"`
	Unlinked    int64  `json:"unlinked"`
}

// ConversationDetail is one conversation with its contact and touches.
type ConversationDetail struct {
	Conversation crm.Conversation `json:"conversation"`
	Contact      crm.Contact      `json:"contact"`
	Touches      []crm.Touch      `json:"touches"`
	OpenDeals    []crm.Deal       `json:"open_deals"`
}

// listConversations: ?filter=mine|unassigned|unlinked|all &status= &channel= &q= &cursor= &limit=
func (h *api) listConversations(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	q := r.URL.Query()
	f := crm.ConversationFilter{Status: q.Get("status"), Channel: q.Get("channel"), Q: q.Get("q"), Region: h.app.opts.Region, Cursor: q.Get("cursor"), Limit: queryInt(r, "limit")}
	switch q.Get("filter") {
	case "mine":
		f.AssigneeID = u.ID
	case "unassigned":
		f.Unassigned = true
	case "unlinked":
		f.Unlinked = true
	case "", "all":
	default:
		writeError(w, r, h.app.log, crm.Invalid("filter must be mine, unassigned, unlinked or all"))
		return
	}
	if u.Role == crm.Manager {
		f.VisibleTo = u.ID
	}
	tx := h.app.db.WithContext(r.Context())
	convs, next, err := crm.ListConversations(tx, f)
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	out := ConversationList{Conversations: make([]ConversationItem, len(convs)), NextCursor: next}
	ids := make([]int64, len(convs))
	cids := make([]int64, len(convs))
	for i, c := range convs {
		out.Conversations[i].Conversation = c
		ids[i], cids[i] = c.ID, c.ContactID
	}
	if len(convs) > 0 {
		var names []struct {
			ID   int64
			Name string
		}
		tx.Table("contacts").Select("id, name").Where("id IN ?", cids).Scan(&names)
		var counts []struct {
			ConversationID int64
			N              int64
		}
		tx.Table("touches").Select("conversation_id, COUNT(*) AS n").Where("conversation_id IN ? AND "+crm.UnlinkedTouch, ids).Group("conversation_id").Scan(&counts)
		nm, cn := map[int64]string{}, map[int64]int64{}
		for _, n := range names {
			nm[n.ID] = n.Name
		}
		for _, c := range counts {
			cn[c.ConversationID] = c.N
		}
		for i := range out.Conversations {
			out.Conversations[i].ContactName = nm[out.Conversations[i].ContactID]
			out.Conversations[i].Unlinked = cn[out.Conversations[i].ID]
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *api) getConversation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	tx := h.app.db.WithContext(r.Context())
	var d ConversationDetail
	if d.Conversation, err = visibleConversation(tx, userOf(r).User, id); err == nil {
		if d.Contact, err = crm.GetContact(tx, d.Conversation.ContactID); err == nil {
			if d.Touches, err = crm.ConversationTouches(tx, id, queryInt(r, "limit")); err == nil {
				d.OpenDeals, err = crm.OpenDeals(tx, d.Conversation.ContactID)
			}
		}
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
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
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
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
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
