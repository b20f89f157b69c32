package ingest

import (
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// contactWrites is what the identity → contact rule writes for a batch.
type contactWrites struct {
	contacts []crm.Contact
	idents   []crm.Identity
	renames  []crm.Contact // contacts that had no name: ID, Name, UpdatedAt
	refresh  []int64       // contacts whose search text gains handles
	refSet   map[int64]bool
	// exts are the extensions said with stored phone identities, in
	// batch order (the latest wins); newIdent indexes idents by key.
	exts     []crm.Identity
	newIdent map[crm.Key]int
}

// contacts applies identity → contact: an item's handles find its
// contact; the handles nobody holds become identities of it; an item whose
// handles reach nobody creates a contact. Redeliveries and repeats within
// the batch are marked to store nothing.
func (b *batch) contacts() error {
	w := &contactWrites{refSet: map[int64]bool{}, newIdent: map[crm.Key]int{}}
	pending := map[touchKey]int{}
	for i, it := range b.items {
		p := &b.ps[i]
		p.dupOf = -1
		tk := touchKey{it.in.AccountID, it.in.ExternalID}
		if id, ok := b.st.touches[tk]; ok {
			p.skip, b.out[i] = true, channels.Result{TouchID: id, Duplicate: true}
			continue
		}
		if j, ok := pending[tk]; ok {
			p.skip, p.dupOf = true, j
			continue
		}
		pending[tk] = i
		p.now = time.Now().UTC()
		b.planContact(p, it, w)
	}
	return b.writeContacts(w)
}

// planContact decides an item's contact.
func (b *batch) planContact(p *plan, it *item, w *contactWrites) {
	st := b.st
	for _, k := range it.keys {
		if c, ok := st.identities[k]; ok {
			if p.contact == 0 {
				p.contact = c
			} else if c != p.contact {
				p.others = append(p.others, c)
			}
		}
	}
	name := strings.TrimSpace(it.in.Name)
	if p.contact == 0 {
		p.newContact = true
		ids := make([]crm.Identity, len(it.keys))
		for j, k := range it.keys {
			ids[j] = crm.Identity{Kind: k.Kind, Value: k.Value}
		}
		c := crm.Contact{Name: name, CreatedAt: p.since(it)}
		c.Search = crm.SearchText(&c, ids)
		w.contacts = append(w.contacts, c)
		p.contact = -int64(len(w.contacts))
		st.contacts[p.contact] = &contactState{name: name}
	}
	added := false
	for _, k := range it.keys {
		if _, ok := st.identities[k]; ok {
			w.keepExt(it, k)
			continue
		}
		w.newIdent[k] = len(w.idents)
		w.idents = append(w.idents, crm.Identity{ContactID: p.contact, Kind: k.Kind, Value: k.Value, CreatedAt: p.since(it)})
		w.keepExt(it, k)
		st.identities[k] = p.contact
		added = true
	}
	cs := st.contacts[p.contact]
	if cs == nil {
		cs = &contactState{}
		st.contacts[p.contact] = cs
	}
	if !p.newContact && (added || (cs.name == "" && name != "")) {
		if cs.name == "" && name != "" {
			cs.name = name
			w.renames = append(w.renames, crm.Contact{ID: p.contact, Name: name, UpdatedAt: p.now})
		}
		if !w.refSet[p.contact] {
			w.refSet[p.contact] = true
			w.refresh = append(w.refresh, p.contact)
		}
	}
	p.name, p.responsible, p.notClient, p.blocked = cs.name, cs.responsible, cs.notClient, cs.blocked
}

// keepExt gives identity k the extension the item said with it, if any:
// on the row the batch creates, else as an update of the stored one.
func (w *contactWrites) keepExt(it *item, k crm.Key) {
	if it.ext == "" || k != it.extKey {
		return
	}
	if j, ok := w.newIdent[k]; ok {
		w.idents[j].Ext = it.ext
		return
	}
	w.exts = append(w.exts, crm.Identity{Kind: k.Kind, Value: k.Value, Ext: it.ext})
}

// writeContacts creates the batch's contacts, then gives the plans and
// rows that named them by their temporary ids the real ones.
func (b *batch) writeContacts(w *contactWrites) error {
	ids, err := crm.InsertContacts(b.tx, w.contacts)
	if err != nil {
		return err
	}
	real := func(id int64) int64 {
		if id < 0 {
			return ids[-id-1]
		}
		return id
	}
	if len(ids) > 0 {
		for i := range b.ps {
			p := &b.ps[i]
			p.contact = real(p.contact)
			for j := range p.others {
				p.others[j] = real(p.others[j])
			}
		}
		for j := range w.idents {
			w.idents[j].ContactID = real(w.idents[j].ContactID)
		}
		for j := range w.renames {
			w.renames[j].ID = real(w.renames[j].ID)
		}
		for j := range w.refresh {
			w.refresh[j] = real(w.refresh[j])
		}
	}
	if err := crm.InsertIdentities(b.tx, w.idents); err != nil {
		return err
	}
	if err := crm.SetIdentityExts(b.tx, w.exts); err != nil {
		return err
	}
	for _, r := range w.renames {
		if err := crm.NameContact(b.tx, r.ID, r.Name, r.UpdatedAt); err != nil {
			return err
		}
	}
	for _, c := range w.refresh {
		if err := crm.RefreshSearch(b.tx, c); err != nil {
			return err
		}
	}
	return nil
}
