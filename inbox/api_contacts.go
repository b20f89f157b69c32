package inbox

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// ContactList is a search result.
type ContactList struct {
	Contacts []crm.Contact `json:"contacts"`
}

// ContactDetail is a contact with its conversations and deals.
type ContactDetail struct {
	Contact       crm.Contact        `json:"contact"`
	Conversations []crm.Conversation `json:"conversations"`
	Deals         []crm.Deal         `json:"deals"`
}

// searchContacts: ?q= name, phone or email in any format; &responsible_id=
// (a user id, or "none"); &before_id= for the next page (newest first).
func (h *api) searchContacts(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	tx := h.app.db.WithContext(r.Context())
	tx = tx.Scopes(crm.VisibleContacts(u.User))
	before, err := queryID(r, "before_id")
	if err == nil && before > 0 {
		tx = tx.Where("contacts.id < ?", before)
	}
	if resp := r.URL.Query().Get("responsible_id"); err == nil && resp == "none" {
		tx = tx.Where("contacts.responsible_id IS NULL")
	} else if err == nil && resp != "" {
		var id int64
		if id, err = queryID(r, "responsible_id"); err == nil {
			tx = tx.Where("contacts.responsible_id = ?", id)
		}
	}
	var cs []crm.Contact
	if err == nil {
		cs, err = crm.SearchContacts(tx, r.URL.Query().Get("q"), h.app.opts.Region, queryInt(r, "limit"))
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	if cs == nil {
		cs = []crm.Contact{}
	}
	writeJSON(w, http.StatusOK, ContactList{Contacts: cs})
}

func (h *api) getContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var d ContactDetail
	tx := h.app.db.WithContext(r.Context())
	u := userOf(r).User
	if err == nil {
		d.Contact, err = crm.VisibleContact(tx, u, id)
	}
	if err == nil {
		f := crm.ConversationFilter{ContactID: d.Contact.ID, Limit: 200}
		f.For = &u
		d.Conversations, _, err = crm.ListConversations(tx, f)
	}
	if err == nil {
		d.Deals, err = crm.ListDeals(tx, crm.DealFilter{ContactID: d.Contact.ID})
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (h *api) updateContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var p crm.ContactPatch
	if err == nil {
		err = decode(r, &p)
	}
	var c crm.Contact
	if err == nil {
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			before, err := crm.VisibleContact(tx, u, id)
			if err != nil {
				return err
			}
			if p.ResponsibleID != nil && u.Role == crm.Manager {
				return fmt.Errorf("%w: only a lead or the owner changes the responsible manager", crm.ErrForbidden)
			}
			if c, err = crm.UpdateContact(tx, before.ID, p); err != nil {
				return err
			}
			if p.ResponsibleID != nil {
				if _, err := crm.Audit(tx, &u.ID, "contact.responsible", "contact", c.ID, map[string]any{"from": before.ResponsibleID, "to": c.ResponsibleID}); err != nil {
					return err
				}
			}
			return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID})
		})
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// IdentityList is a contact's identities.
type IdentityList struct {
	Identities []crm.Identity `json:"identities"`
}

func (h *api) listIdentities(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var c crm.Contact
	if err == nil {
		c, err = crm.VisibleContact(h.app.db.WithContext(r.Context()), userOf(r).User, id)
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	if c.Identities == nil {
		c.Identities = []crm.Identity{}
	}
	writeJSON(w, http.StatusOK, IdentityList{Identities: c.Identities})
}

// addIdentity adds a handle (any format) and the handles it implies.
func (h *api) addIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req crm.RawHandle
	if err == nil {
		err = decode(r, &req)
	}
	var keys []crm.Key
	if err == nil {
		keys, err = crm.NormalizeAll([]crm.RawHandle{req}, h.app.opts.Region)
	}
	var out IdentityList
	if err == nil {
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			c, err := crm.VisibleContact(tx, u, id)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if _, err := crm.AddIdentity(tx, c.ID, k); err != nil {
					return err
				}
			}
			c, err = crm.GetContact(tx, c.ID)
			out.Identities = c.Identities
			if err != nil {
				return err
			}
			if _, err := crm.Audit(tx, &u.ID, "contact.identity", "contact", c.ID, map[string]any{"added": crm.KeyStrings(keys)}); err != nil {
				return err
			}
			return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID})
		})
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// removeIdentity takes a handle off a contact: a number that was never
// theirs, an address typed wrong. Audited; the next message from it makes
// or finds another contact.
func (h *api) removeIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var iid int64
	if err == nil {
		iid, err = pathID(r, "identity")
	}
	var out IdentityList
	if err == nil {
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			c, err := crm.VisibleContact(tx, u, id)
			if err != nil {
				return err
			}
			var gone *crm.Identity
			for i := range c.Identities {
				if c.Identities[i].ID == iid {
					gone = &c.Identities[i]
				}
			}
			if gone == nil {
				return crm.NotFound("identity", iid)
			}
			if err := tx.Delete(&crm.Identity{}, gone.ID).Error; err != nil {
				return fmt.Errorf("inbox: remove identity %d: %w", gone.ID, err)
			}
			if err := crm.RefreshSearch(tx, c.ID); err != nil {
				return err
			}
			if _, err := crm.Audit(tx, &u.ID, "contact.identity", "contact", c.ID, map[string]any{"removed": []string{gone.Handle()}}); err != nil {
				return err
			}
			c, err = crm.GetContact(tx, c.ID)
			out.Identities = c.Identities
			if out.Identities == nil {
				out.Identities = []crm.Identity{}
			}
			if err != nil {
				return err
			}
			return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID})
		})
	}
	respond(h, w, r, out, err)
}

// DuplicateList is the contacts that may be the same person.
type DuplicateList struct {
	Duplicates []crm.Duplicate `json:"duplicates"`
}

// listDuplicates suggests merges: other contacts named by one message
// together with this one. A manager gets only those they may see.
func (h *api) listDuplicates(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	tx := h.app.db.WithContext(r.Context())
	u := userOf(r).User
	var c crm.Contact
	if err == nil {
		c, err = crm.VisibleContact(tx, u, id)
	}
	var ds []crm.Duplicate
	if err == nil {
		ds, err = crm.Duplicates(tx, c.ID)
	}
	out := DuplicateList{Duplicates: []crm.Duplicate{}}
	for _, d := range ds {
		if err != nil {
			break
		}
		var ok bool
		if ok, err = crm.CanSeeContact(tx, u, d.Contact.ID); ok {
			out.Duplicates = append(out.Duplicates, d)
		}
	}
	respond(h, w, r, out, err)
}

// dismissDuplicate takes back the suggestion that the contacts in the
// path are one person: 204, no body.
func (h *api) dismissDuplicate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var other int64
	if err == nil {
		other, err = pathID(r, "other")
	}
	if err == nil {
		_, err = h.app.DismissDuplicate(r.Context(), userOf(r).User, id, other)
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// MergeRequest names the contact to merge into the one in the path.
type MergeRequest struct {
	ContactID int64 `json:"contact_id"`
}

// MergeResponse is the merged contact and the audit entry that undoes it.
type MergeResponse struct {
	Contact      crm.Contact `json:"contact"`
	AuditID      int64       `json:"audit_id"`
	UndoEndpoint string      `json:"undo"`
}

func (h *api) mergeContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req MergeRequest
	if err == nil {
		err = decode(r, &req)
	}
	var e crm.AuditEntry
	if err == nil {
		e, err = h.app.MergeContacts(r.Context(), userOf(r).User, id, req.ContactID)
	}
	var c crm.Contact
	if err == nil {
		c, err = crm.GetContact(h.app.db.WithContext(r.Context()), id)
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, MergeResponse{Contact: c, AuditID: e.ID, UndoEndpoint: fmt.Sprintf("/api/v1/merges/%d/undo", e.ID)})
}

func (h *api) undoMerge(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "audit_id")
	var e crm.AuditEntry
	if err == nil {
		e, err = h.app.UndoMerge(r.Context(), userOf(r).User, id)
	}
	var c crm.Contact
	if err == nil {
		c, err = crm.GetContact(h.app.db.WithContext(r.Context()), e.ObjectID)
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// exportContacts streams every contact the user may export as CSV. The
// right is the owner's to grant; each export is audited.
func (h *api) exportContacts(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	if !u.CanExport && u.Role != crm.Owner {
		writeError(w, r, h.app.log, fmt.Errorf("%w: exporting contacts is a right the owner grants", crm.ErrForbidden))
		return
	}
	tx := h.app.db.WithContext(r.Context())
	// A manager with the right exports the contacts they can see, not the
	// company's whole base.
	scope := func(db *gorm.DB) *gorm.DB {
		return db.Where("merged_into_id IS NULL").Scopes(crm.VisibleContacts(u.User))
	}
	var n int64
	if err := tx.Model(&crm.Contact{}).Scopes(scope).Count(&n).Error; err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	if err := tx.Transaction(func(tx *gorm.DB) error {
		_, err := crm.Audit(tx, &u.ID, "contact.export", "contact", 0, map[string]any{"rows": n, "remote": clientIP(r, h.app.opts.TrustedProxies)})
		return err
	}); err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contacts-%s.csv"`, time.Now().Format("2006-01-02")))
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "name", "company", "phones", "emails", "telegram", "whatsapp", "responsible_id", "created_at"})
	var batch []crm.Contact
	tx.Scopes(scope).Order("id").FindInBatches(&batch, 500, func(btx *gorm.DB, _ int) error {
		var ids []crm.Identity
		cids := make([]int64, len(batch))
		for i, c := range batch {
			cids[i] = c.ID
		}
		tx.Where("contact_id IN ?", cids).Order("id").Find(&ids)
		by := map[int64]map[crm.IdentityKind][]string{}
		for _, i := range ids {
			if by[i.ContactID] == nil {
				by[i.ContactID] = map[crm.IdentityKind][]string{}
			}
			by[i.ContactID][i.Kind] = append(by[i.ContactID][i.Kind], i.Value)
		}
		for _, c := range batch {
			resp := ""
			if c.ResponsibleID != nil {
				resp = strconv.FormatInt(*c.ResponsibleID, 10)
			}
			m := by[c.ID]
			cw.Write([]string{strconv.FormatInt(c.ID, 10), csvSafe(c.Name), csvSafe(c.Company),
				strings.Join(m[crm.PhoneID], " "), csvSafe(strings.Join(m[crm.EmailID], " ")), csvSafe(strings.Join(m[crm.TelegramID], " ")),
				csvSafe(strings.Join(m[crm.WhatsAppID], " ")), resp, c.CreatedAt.Format(time.RFC3339)})
		}
		cw.Flush()
		return cw.Error()
	})
	cw.Flush()
}

// csvSafe stops a spreadsheet from running a cell as a formula. Names and
// emails come from strangers ("=cmd()"@example.ru is a valid address);
// phones are E.164, a plus and digits, and stay as they are.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
