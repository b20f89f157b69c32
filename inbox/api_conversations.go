package inbox

import (
	"net/http"
	"time"

	"gorm.io/gorm"

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
	// ContactHandle is the contact's first identity ("phone:+7913…"), for
	// a contact with no name yet (a missed call from an unknown number).
	ContactHandle string `json:"contact_handle"`
	Unlinked      int64  `json:"unlinked"`
	// MissedCallAt is the oldest missed call of the conversation that
	// nobody has called back (the call-back queue), if any.
	MissedCallAt *time.Time `json:"missed_call_at,omitempty"`
}

// ConversationDetail is one conversation with its contact and touches, and
// what the timeline shows beside them: the touches' files and the names of
// the entry points and ad sources they came from (which a manager may not
// list through the owner's endpoints).
type ConversationDetail struct {
	Conversation crm.Conversation `json:"conversation"`
	Contact      crm.Contact      `json:"contact"`
	Touches      []crm.Touch      `json:"touches"`
	OpenDeals    []crm.Deal       `json:"open_deals"`
	Attachments  []Attachment     `json:"attachments"`
	EntryPoints  []NamedRef       `json:"entry_points"`
	AdSources    []NamedRef       `json:"ad_sources"`
}

// NamedRef is an id with the name people know it by.
type NamedRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// listConversations: ?filter=mine|unassigned|unlinked|waiting|callback|all &status= &channel= &contact_id= &q= &cursor= &limit=
func (h *api) listConversations(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	q := r.URL.Query()
	f := crm.ConversationFilter{Status: q.Get("status"), Channel: q.Get("channel"), Q: q.Get("q"), Region: h.app.opts.Region, Cursor: q.Get("cursor"), Limit: queryInt(r, "limit")}
	var err error
	if f.ContactID, err = queryID(r, "contact_id"); err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	switch q.Get("filter") {
	case "mine":
		f.AssigneeID = u.ID
	case "unassigned":
		f.Unassigned = true
	case "unlinked":
		f.Unlinked = true
	case "waiting":
		f.Waiting = true
	case "callback":
		f.CallBack = true
	case "", "all":
	default:
		writeError(w, r, h.app.log, crm.Invalid("filter must be mine, unassigned, unlinked, waiting, callback or all"))
		return
	}
	switch f.Status {
	case "", string(crm.ConvOpen), string(crm.ConvSnoozed), string(crm.ConvClosed):
	default:
		writeError(w, r, h.app.log, crm.Invalid("status must be open, snoozed or closed"))
		return
	}
	f.For = &u.User
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
		var handles []struct {
			ContactID int64
			Kind      string
			Value     string
		}
		tx.Table("identities").Select("contact_id, kind, value").Where("contact_id IN ?", cids).Order("id").Scan(&handles)
		nm, cn, hd := map[int64]string{}, map[int64]int64{}, map[int64]string{}
		for _, n := range names {
			nm[n.ID] = n.Name
		}
		for _, h := range handles {
			if hd[h.ContactID] == "" {
				hd[h.ContactID] = h.Kind + ":" + h.Value
			}
		}
		for _, c := range counts {
			cn[c.ConversationID] = c.N
		}
		missed, err := crm.MissedCallsSince(tx, ids)
		if err != nil {
			writeError(w, r, h.app.log, err)
			return
		}
		for i := range out.Conversations {
			out.Conversations[i].ContactName = nm[out.Conversations[i].ContactID]
			out.Conversations[i].Unlinked = cn[out.Conversations[i].ID]
			out.Conversations[i].ContactHandle = hd[out.Conversations[i].ContactID]
			if at, ok := missed[out.Conversations[i].ID]; ok {
				out.Conversations[i].MissedCallAt = &at
			}
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
	if d.Conversation, err = crm.VisibleConversation(tx, userOf(r).User, id); err == nil {
		if d.Contact, err = crm.GetContact(tx, d.Conversation.ContactID); err == nil {
			if d.Touches, err = crm.ConversationTouches(tx, id, queryInt(r, "limit")); err == nil {
				d.OpenDeals, err = crm.OpenDeals(tx, d.Conversation.ContactID)
			}
		}
	}
	if err == nil {
		err = timelineRefs(tx, &d)
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// timelineRefs fills the attachments, entry points and ad sources of a
// conversation's touches.
func timelineRefs(tx *gorm.DB, d *ConversationDetail) error {
	d.Attachments, d.EntryPoints, d.AdSources = []Attachment{}, []NamedRef{}, []NamedRef{}
	var ids, eps, srcs []int64
	for _, t := range d.Touches {
		ids = append(ids, t.ID)
		if t.EntryPointID != nil {
			eps = append(eps, *t.EntryPointID)
		}
		if t.AdSourceID != nil {
			srcs = append(srcs, *t.AdSourceID)
		}
	}
	if len(ids) > 0 {
		if err := tx.Where("touch_id IN ?", ids).Order("id").Find(&d.Attachments).Error; err != nil {
			return err
		}
	}
	if len(eps) > 0 {
		if err := tx.Table("entry_points").Select("id, address AS name").Where("id IN ?", eps).Order("id").Scan(&d.EntryPoints).Error; err != nil {
			return err
		}
	}
	if len(srcs) > 0 {
		if err := tx.Table("ad_sources").Select("id, name").Where("id IN ?", srcs).Order("id").Scan(&d.AdSources).Error; err != nil {
			return err
		}
	}
	return nil
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
