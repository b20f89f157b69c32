package inbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Merge is a merged (or unmerged) contact and the audit entry of the merge.
type Merge struct {
	Contact crm.Contact
	AuditID int64
}

// MergeContacts merges mergedID into survivorID; the user must see both.
// The audit entry's id undoes it (UndoMerge).
func (a *App) MergeContacts(ctx context.Context, u crm.User, survivorID, mergedID int64) (Merge, error) {
	var out Merge
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		for _, id := range []int64{survivorID, mergedID} {
			ok, err := crm.CanSeeContact(tx, u, id)
			if err != nil {
				return err
			}
			if !ok {
				return crm.NotFound("contact", id)
			}
		}
		e, err := crm.MergeContacts(tx, survivorID, mergedID, &u.ID)
		if err != nil {
			return err
		}
		out.AuditID = e.ID
		if out.Contact, err = crm.GetContact(tx, survivorID); err != nil {
			return err
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": survivorID, "merged_id": mergedID})
	})
	return out, err
}

// DismissDuplicate says a suggested pair of contacts are different
// people; the user must see both (like a merge). The contact.changed event
// names both, so panels showing either reload.
func (a *App) DismissDuplicate(ctx context.Context, u crm.User, id, otherID int64) (crm.AuditEntry, error) {
	var out crm.AuditEntry
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		c, err := crm.VisibleContact(tx, u, id)
		if err != nil {
			return err
		}
		o, err := crm.VisibleContact(tx, u, otherID)
		if err != nil {
			return err
		}
		if out, err = crm.DismissDuplicate(tx, c.ID, o.ID, &u.ID); err != nil {
			return err
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID, "other_id": o.ID, "not_duplicate": true})
	})
	return out, err
}

// UndoMerge reverses a merge from its audit entry. A lead or the owner
// undoes any merge; a manager only one they made, of a contact they see.
func (a *App) UndoMerge(ctx context.Context, u crm.User, auditID int64) (Merge, error) {
	var out Merge
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if u.Role == crm.Manager {
			var e crm.AuditEntry
			if err := tx.Take(&e, auditID).Error; err != nil || e.Action != "contact.merge" {
				return crm.NotFound("merge", auditID)
			}
			if ok, err := crm.CanSeeContact(tx, u, e.ObjectID); err != nil || !ok {
				if err != nil {
					return err
				}
				return crm.NotFound("merge", auditID)
			}
			if e.ActorID == nil || *e.ActorID != u.ID {
				return fmt.Errorf("%w: a manager undoes only their own merges; ask a team lead", crm.ErrForbidden)
			}
		}
		e, err := crm.UndoMerge(tx, auditID, &u.ID)
		if err != nil {
			return err
		}
		out.AuditID = e.ID
		if out.Contact, err = crm.GetContact(tx, e.ObjectID); err != nil {
			return err
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": e.ObjectID, "unmerged": true})
	})
	return out, err
}

// ContactDetail is a contact with its conversations and deals.
type ContactDetail struct {
	Contact       crm.Contact        `json:"contact"`
	Conversations []crm.Conversation `json:"conversations"`
	Deals         []crm.Deal         `json:"deals"`
}

// ContactQuery searches contacts: q is a name, a phone or an email in any
// format; Responsible a user id, with NoResponsible those nobody is
// responsible for; BeforeID pages (newest first).
type ContactQuery struct {
	Q             string
	Responsible   int64
	NoResponsible bool
	BeforeID      int64
	Limit         int
}

// SearchContacts finds the contacts u may see.
func (a *App) SearchContacts(ctx context.Context, u crm.User, q ContactQuery) ([]crm.Contact, error) {
	tx := a.db.WithContext(ctx).Scopes(crm.VisibleContacts(u))
	if q.BeforeID > 0 {
		tx = tx.Where("contacts.id < ?", q.BeforeID)
	}
	if q.NoResponsible {
		tx = tx.Where("contacts.responsible_id IS NULL")
	} else if q.Responsible > 0 {
		tx = tx.Where("contacts.responsible_id = ?", q.Responsible)
	}
	cs, err := crm.SearchContacts(tx, q.Q, a.opts.Region, q.Limit)
	if cs == nil {
		cs = []crm.Contact{}
	}
	return cs, err
}

// Contact is a contact with the conversations u may see and its deals.
func (a *App) Contact(ctx context.Context, u crm.User, id int64) (ContactDetail, error) {
	tx := a.db.WithContext(ctx)
	var d ContactDetail
	var err error
	if d.Contact, err = crm.VisibleContact(tx, u, id); err != nil {
		return d, err
	}
	if d.Conversations, _, err = crm.ListConversations(tx, crm.ConversationFilter{ContactID: d.Contact.ID, Limit: 200, For: &u}); err != nil {
		return d, err
	}
	page, err := crm.ListDeals(tx, crm.DealFilter{ContactID: d.Contact.ID, Limit: 500})
	d.Deals = make([]crm.Deal, len(page.Deals))
	for i, it := range page.Deals {
		d.Deals[i] = it.Deal
	}
	return d, err
}

// UpdateContact edits a contact's card; only a lead or the owner changes
// the responsible manager (audited).
func (a *App) UpdateContact(ctx context.Context, u crm.User, id int64, p crm.ContactPatch) (crm.Contact, error) {
	var c crm.Contact
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		before, err := crm.VisibleContact(tx, u, id)
		if err != nil {
			return err
		}
		if p.ResponsibleID != nil && !u.SeesAll() {
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
		if p.NotClient != nil || p.Blocked != nil {
			if c, err = a.setNotClient(tx, u, before, p); err != nil {
				return err
			}
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID})
	})
	return c, err
}

// setNotClient marks a contact no client (or a client again) and a
// blocked sender (or not): its touches without a deal stop (or start
// again) counting as unlinked, now and for what comes later. Audited;
// the unlinked counters follow.
func (a *App) setNotClient(tx *gorm.DB, u crm.User, before crm.Contact, p crm.ContactPatch) (crm.Contact, error) {
	reason, blocked := before.NotClient, before.Blocked
	if p.NotClient != nil {
		reason = strings.TrimSpace(*p.NotClient)
	}
	if p.Blocked != nil {
		blocked = *p.Blocked
	}
	n, err := crm.SetNotClient(tx, before.ID, reason, blocked)
	if err != nil {
		return crm.Contact{}, err
	}
	if _, err := crm.Audit(tx, &u.ID, "contact.not_client", "contact", before.ID, map[string]any{
		"from": before.NotClient, "to": reason, "blocked_from": before.Blocked, "blocked_to": blocked, "touches": n}); err != nil {
		return crm.Contact{}, err
	}
	return crm.GetContact(tx, before.ID) // contact.changed, sent by the caller, refreshes the counters
}

// Identities lists a contact's handles for u.
func (a *App) Identities(ctx context.Context, u crm.User, id int64) ([]crm.Identity, error) {
	c, err := crm.VisibleContact(a.db.WithContext(ctx), u, id)
	if c.Identities == nil {
		c.Identities = []crm.Identity{}
	}
	return c.Identities, err
}

// AddIdentity adds a handle (any format) and the handles it implies to a
// contact. Audited.
func (a *App) AddIdentity(ctx context.Context, u crm.User, id int64, h crm.RawHandle) ([]crm.Identity, error) {
	keys, err := crm.NormalizeAll([]crm.RawHandle{h}, a.opts.Region)
	if err != nil {
		return nil, err
	}
	exts := crm.Extensions([]crm.RawHandle{h}, a.opts.Region)
	var out []crm.Identity
	err = a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		c, err := crm.VisibleContact(tx, u, id)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if taken, err := crm.AddIdentity(tx, c.ID, k, exts[k]); err != nil {
				return a.handleTaken(tx, u, k, taken, err)
			}
		}
		if c, err = crm.GetContact(tx, c.ID); err != nil {
			return err
		}
		out = c.Identities
		if _, err := crm.Audit(tx, &u.ID, "contact.identity", "contact", c.ID, map[string]any{"added": crm.KeyStrings(keys)}); err != nil {
			return err
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID})
	})
	return out, err
}

// RemoveIdentity takes a handle off a contact: a number that was never
// theirs, an address typed wrong. Audited; the next message from it makes
// or finds another contact.
func (a *App) RemoveIdentity(ctx context.Context, u crm.User, id, identityID int64) ([]crm.Identity, error) {
	out := []crm.Identity{}
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		c, err := crm.VisibleContact(tx, u, id)
		if err != nil {
			return err
		}
		gone, err := crm.RemoveIdentity(tx, c, identityID)
		if err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &u.ID, "contact.identity", "contact", c.ID, map[string]any{"removed": []string{gone.Handle()}}); err != nil {
			return err
		}
		if c, err = crm.GetContact(tx, c.ID); err != nil {
			return err
		}
		if c.Identities != nil {
			out = c.Identities
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID})
	})
	return out, err
}

// Duplicates suggests merges: other contacts named by one message together
// with this one, those u may see.
func (a *App) Duplicates(ctx context.Context, u crm.User, id int64) ([]crm.Duplicate, error) {
	tx := a.db.WithContext(ctx)
	c, err := crm.VisibleContact(tx, u, id)
	if err != nil {
		return nil, err
	}
	ds, err := crm.Duplicates(tx, c.ID)
	if err != nil {
		return nil, err
	}
	out := []crm.Duplicate{}
	for _, d := range ds {
		ok, err := crm.CanSeeContact(tx, u, d.Contact.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// ExportContacts hands every contact u may export to each, in pages, with
// its handles; the export is audited first (remote: the client's address).
// Exporting is a right the owner grants.
func (a *App) ExportContacts(ctx context.Context, u crm.User, remote string, each func([]crm.ContactRow) error) error {
	if !u.CanExport && u.Role != crm.Owner {
		return fmt.Errorf("%w: exporting contacts is a right the owner grants", crm.ErrForbidden)
	}
	// A manager with the right exports the contacts they can see, not the
	// company's whole base.
	scope := crm.VisibleContacts(u)
	tx := a.db.WithContext(ctx)
	n, err := crm.CountLiveContacts(tx, scope)
	if err != nil {
		return err
	}
	if err := tx.Transaction(func(tx *gorm.DB) error {
		_, err := crm.Audit(tx, &u.ID, "contact.export", "contact", 0, map[string]any{"rows": n, "remote": remote})
		return err
	}); err != nil {
		return err
	}
	return crm.EachLiveContact(tx, scope, 500, each)
}

// handleTaken words the refusal of a handle that is another contact's:
// the user who may see that contact is told which one it is (to open or
// merge it); anyone else learns only that the handle cannot be added,
// never which contact holds it.
func (a *App) handleTaken(tx *gorm.DB, u crm.User, k crm.Key, taken crm.Identity, err error) error {
	if !errors.Is(err, crm.ErrConflict) || taken.ContactID == 0 {
		return err
	}
	if other, verr := crm.VisibleContact(tx, u, taken.ContactID); verr == nil {
		name := other.Name
		if name == "" {
			name = "#" + strconv.FormatInt(other.ID, 10)
		}
		return crm.Conflict("%s already belongs to contact %s (id %d): open it, or merge the two contacts", k, name, other.ID)
	}
	return crm.Conflict("%s already belongs to another contact; a team lead can find and merge it", k)
}
