package ingest

import (
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

type touchKey struct {
	account int64
	ext     string
}

type dealState struct {
	open  []int64
	total int
}

type contactState struct {
	name        string
	responsible *int64
	notClient   string
	blocked     bool
}

// batchState is what the batch's lookups found, kept up to date as the
// batch is planned. Contacts and deals the batch creates carry a
// temporary negative id until their rows are written.
type batchState struct {
	touches    map[touchKey]int64
	identities map[crm.Key]int64
	contacts   map[int64]*contactState
	convs      map[crm.ThreadKey]*crm.Conversation
	convLoaded map[crm.ThreadKey]bool // keys of stored contacts whose conversation was looked up
	convByID   map[int64]*crm.Conversation
	parentConv map[touchKey]int64 // a stored parent message's conversation (Inbound.Parents)
	stored     map[int64]bool     // contacts that existed before the batch
	// threadContacts: the contacts of the parents' conversations.
	threadContacts map[int64]bool
	deals          map[int64]*dealState
	eps            map[touchKey]*crm.EntryPoint
	firstStage     int64
	exts           map[string]int64 // extension → user, for calls
	audit          crm.AuditChain
}

// preload looks up, for the whole batch at once, what storing its items
// one by one would find: the touches already stored, the contacts of their
// handles with their conversations and deals, the entry points.
func preload(tx *gorm.DB, items []*item) (*batchState, error) {
	st := &batchState{
		touches: map[touchKey]int64{}, identities: map[crm.Key]int64{}, contacts: map[int64]*contactState{},
		convs: map[crm.ThreadKey]*crm.Conversation{}, convLoaded: map[crm.ThreadKey]bool{}, convByID: map[int64]*crm.Conversation{},
		parentConv: map[touchKey]int64{}, stored: map[int64]bool{}, threadContacts: map[int64]bool{}, deals: map[int64]*dealState{}, eps: map[touchKey]*crm.EntryPoint{},
	}
	steps := []func(*gorm.DB, []*item) error{st.loadTouches, st.loadContacts, st.loadConversations, st.loadParents, st.loadDeals, st.loadEntryPoints, st.loadExtensions}
	for _, step := range steps {
		if err := step(tx, items); err != nil {
			return nil, err
		}
	}
	var err error
	if st.firstStage, err = crm.FirstOpenStage(tx); err != nil {
		return nil, err
	}
	return st, nil
}

// loadTouches finds the items already stored (redelivered).
func (st *batchState) loadTouches(tx *gorm.DB, items []*item) error {
	exts := map[int64][]string{}
	for _, it := range items {
		exts[it.in.AccountID] = append(exts[it.in.AccountID], it.in.ExternalID)
	}
	for acc, ids := range exts {
		found, err := crm.TouchesByExternalID(tx, acc, ids)
		if err != nil {
			return err
		}
		for ext, t := range found {
			st.touches[touchKey{acc, ext}] = t.ID
		}
	}
	return nil
}

// loadContacts finds the contacts holding the items' handles.
func (st *batchState) loadContacts(tx *gorm.DB, items []*item) error {
	byKind := map[crm.IdentityKind][]string{}
	for _, it := range items {
		for _, k := range it.keys {
			byKind[k.Kind] = append(byKind[k.Kind], k.Value)
		}
	}
	for kind, vals := range byKind {
		found, err := crm.IdentityOwners(tx, kind, vals)
		if err != nil {
			return err
		}
		for v, c := range found {
			st.identities[crm.Key{Kind: kind, Value: v}] = c
		}
	}
	var ids []int64
	for _, c := range st.identities {
		if _, ok := st.contacts[c]; !ok {
			st.contacts[c] = nil
			st.stored[c] = true
			ids = append(ids, c)
		}
	}
	heads, err := crm.ContactHeads(tx, ids)
	if err != nil {
		return err
	}
	for _, h := range heads {
		st.contacts[h.ID] = &contactState{name: h.Name, responsible: h.ResponsibleID, notClient: h.NotClient, blocked: h.Blocked}
	}
	return nil
}

// loadConversations finds the stored contacts' conversations of the
// items' threads.
func (st *batchState) loadConversations(tx *gorm.DB, items []*item) error {
	var keys []crm.ThreadKey
	for _, it := range items {
		for _, key := range it.keys {
			c, ok := st.identities[key]
			if !ok {
				continue
			}
			k := crm.ThreadKey{ContactID: c, AccountID: it.in.AccountID, Thread: it.in.ThreadKey}
			if !st.convLoaded[k] {
				st.convLoaded[k] = true
				keys = append(keys, k)
			}
		}
	}
	convs, err := crm.ConversationsByThread(tx, keys)
	if err != nil {
		return err
	}
	for i := range convs {
		c := &convs[i]
		st.convs[crm.ThreadKey{ContactID: c.ContactID, AccountID: c.AccountID, Thread: c.ThreadKey}] = c // latest wins
		st.convByID[c.ID] = c
	}
	return nil
}

// loadParents finds the conversations of the stored messages the items
// answer (Inbound.Parents), for threading when the thread key finds none.
func (st *batchState) loadParents(tx *gorm.DB, items []*item) error {
	byAcc := map[int64][]string{}
	for _, it := range items {
		if len(it.in.Parents) > 0 {
			byAcc[it.in.AccountID] = append(byAcc[it.in.AccountID], it.in.Parents...)
		}
	}
	var want []int64
	for acc, ids := range byAcc {
		found, err := crm.TouchesByExternalID(tx, acc, ids)
		if err != nil {
			return err
		}
		for ext, t := range found {
			conv := t.ConversationID
			st.parentConv[touchKey{acc, ext}] = conv
			if st.convByID[conv] == nil {
				want = append(want, conv)
			}
		}
	}
	convs, err := crm.ConversationsByID(tx, want)
	if err != nil {
		return err
	}
	for i := range convs {
		if c := &convs[i]; st.convByID[c.ID] == nil {
			st.convByID[c.ID] = c
		}
	}
	// A reply may join another contact's thread (thread.go): the deals
	// of the contacts whose conversations hold the parents are wanted too.
	for _, id := range st.parentConv {
		if c := st.convByID[id]; c != nil {
			st.threadContacts[c.ContactID] = true
		}
	}
	return nil
}

// loadDeals counts the stored contacts' deals and lists their open ones.
func (st *batchState) loadDeals(tx *gorm.DB, _ []*item) error {
	var ids []int64
	for c := range st.stored {
		ids = append(ids, c)
	}
	for c := range st.threadContacts {
		if !st.stored[c] {
			ids = append(ids, c)
		}
	}
	deals, err := crm.DealHeads(tx, ids)
	if err != nil {
		return err
	}
	for _, d := range deals {
		ds := st.deal(d.ContactID)
		ds.total++
		if d.Status == crm.DealOpen {
			ds.open = append(ds.open, d.ID)
		}
	}
	return nil
}

// loadEntryPoints finds the items' entry points with their bindings; the
// ones not found are created as the batch meets them.
func (st *batchState) loadEntryPoints(tx *gorm.DB, items []*item) error {
	var addrs []string
	seen := map[string]bool{}
	accs := map[int64]bool{}
	for _, it := range items {
		accs[it.in.AccountID] = true
		if addr := strings.TrimSpace(it.in.EntryPoint); addr != "" && !seen[addr] {
			seen[addr] = true
			addrs = append(addrs, addr)
		}
	}
	eps, err := crm.EntryPointsAt(tx, addrs, accs)
	if err != nil {
		return fmt.Errorf("entry points: %w", err)
	}
	for _, e := range eps {
		st.eps[touchKey{e.AccountID, e.Address}] = e
	}
	return nil
}

func (st *batchState) deal(contact int64) *dealState {
	ds := st.deals[contact]
	if ds == nil {
		ds = &dealState{}
		st.deals[contact] = ds
	}
	return ds
}
