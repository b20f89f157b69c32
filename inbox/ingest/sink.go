package ingest

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
	"github.com/switchboard/switchboard/migrations"
)

// Limits on what one inbound may carry.
const (
	maxExternalID = 512
	maxText       = 1 << 20
)

// item is one validated inbound of a batch.
type item struct {
	idx     int
	in      *channels.Inbound
	keys    []crm.Key
	at      time.Time
	handle  string
	channel string // the account's (a channel never changes)
	files   []storedFile
}

// ingest stores a batch of inbound events: each becomes one touch, tied to
// a contact, an entry point and its ad source, a conversation and, by the
// deal-link rules, a deal. The whole batch is one transaction with the
// account cursor; an event delivered before is reported as a duplicate and
// stores nothing. An event that fails validation gets its error in its
// Result and is logged; the rest of the batch is stored. Events are
// published to the hub after commit. The returned error is set only when
// nothing could be stored (the database is down, ctx ended).
func (s *Sink) ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	results := make([]channels.Result, len(batch))
	items := make([]*item, 0, len(batch))
	cursors := map[int64]string{}
	for i := range batch {
		in := &batch[i]
		if in.Cursor != "" {
			cursors[in.AccountID] = in.Cursor
		}
		if cursorOnly(in) {
			continue // stored with the batch's cursor
		}
		it, err := s.prepare(in)
		if err != nil {
			results[i].Err = err
			s.log.Warn("ingest: rejected", "account", in.AccountID, "external_id", crm.Clip(in.ExternalID, 80), "err", err)
			continue
		}
		it.idx = i
		items = append(items, it)
	}
	if err := s.checkAccounts(ctx, items, results); err != nil {
		return results, err
	}
	live := items[:0]
	for _, it := range items {
		if results[it.idx].Err == nil {
			live = append(live, it)
		}
	}
	evs, err := s.ingestTx(ctx, live, cursors, results)
	if err != nil && len(live) > 1 && ctx.Err() == nil {
		// One bad event must not cost the batch: store them one by one.
		s.log.Warn("ingest: batch failed, retrying one by one", "size", len(live), "err", err)
		evs, err = nil, nil
		stored := 0
		var lastErr error
		failed := map[int64]bool{} // accounts whose cursor must not pass a lost event
		for _, it := range live {
			cur := cursorOf(it)
			if failed[it.in.AccountID] {
				cur = nil
			}
			e, ierr := s.ingestTx(ctx, []*item{it}, cur, results)
			if ierr != nil {
				failed[it.in.AccountID] = true
				results[it.idx].Err = ierr
				lastErr = ierr
				s.log.Error("ingest: event not stored", "account", it.in.AccountID, "external_id", crm.Clip(it.in.ExternalID, 80), "err", ierr)
				continue
			}
			stored++
			evs = append(evs, e...)
		}
		if stored == 0 {
			err = lastErr
		}
	} else if err != nil {
		for _, it := range live {
			results[it.idx].Err = err
		}
		s.log.Error("ingest: not stored", "size", len(live), "err", err)
	}
	return results, err
}

func cursorOf(it *item) map[int64]string {
	if it.in.Cursor == "" {
		return nil
	}
	return map[int64]string{it.in.AccountID: it.in.Cursor}
}

// prepare validates an inbound and normalizes its handles.
func (s *Sink) prepare(in *channels.Inbound) (*item, error) {
	switch {
	case in.AccountID <= 0:
		return nil, crm.Invalid("no account")
	case strings.TrimSpace(in.ExternalID) == "":
		return nil, crm.Invalid("no external id: the event cannot be deduplicated")
	case len(in.ExternalID) > maxExternalID:
		return nil, crm.Invalid("external id longer than %d bytes", maxExternalID)
	case len(in.From) == 0:
		return nil, crm.Invalid("no sender handle")
	case len(in.Text) > maxText || len(in.HTML) > maxText:
		return nil, crm.Invalid("text longer than %d bytes", maxText)
	case !utf8.ValidString(in.Text) || !utf8.ValidString(in.Name) || !utf8.ValidString(in.Subject):
		return nil, crm.Invalid("text is not valid UTF-8")
	}
	// PostgreSQL text cannot hold NUL; no channel means one.
	in.Text, in.Subject, in.Name, in.HTML = crm.StripNUL(in.Text), crm.StripNUL(in.Subject), crm.StripNUL(in.Name), crm.StripNUL(in.HTML)
	keys, err := s.handles(in)
	if err != nil {
		return nil, err
	}
	files, err := s.clean(in)
	if err != nil {
		return nil, err
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	return &item{in: in, keys: keys, at: at.UTC().Truncate(time.Microsecond), handle: keys[0].String(), files: files}, nil
}

// checkAccounts rejects events for unknown or disabled accounts.
func (s *Sink) checkAccounts(ctx context.Context, items []*item, results []channels.Result) error {
	ids := map[int64]bool{}
	for _, it := range items {
		ids[it.in.AccountID] = true
	}
	if len(ids) == 0 {
		return nil
	}
	var list []int64
	for id := range ids {
		list = append(list, id)
	}
	var accs []crm.Account
	if err := s.db.WithContext(ctx).Select("id", "channel", "enabled").Where("id IN ?", list).Find(&accs).Error; err != nil {
		return fmt.Errorf("ingest: accounts: %w", err)
	}
	known := map[int64]crm.Account{}
	for _, ac := range accs {
		known[ac.ID] = ac
	}
	for _, it := range items {
		ac, ok := known[it.in.AccountID]
		if !ok {
			results[it.idx].Err = crm.Invalid("account %d does not exist", it.in.AccountID)
			s.log.Warn("ingest: rejected", "account", it.in.AccountID, "err", results[it.idx].Err)
		} else {
			if it.in.Kind == "" {
				it.in.Kind = channels.Kind(ac.Channel).TouchKind()
			}
			it.channel = ac.Channel
			if it.in.AccountID != 0 && !ac.Enabled {
				results[it.idx].Err = crm.Invalid("account %d is disabled", it.in.AccountID)
			}
		}
	}
	return nil
}

// ingestTx stores items in one transaction, retrying when a concurrent
// writer created the same contact or touch first.
func (s *Sink) ingestTx(ctx context.Context, items []*item, cursors map[int64]string, results []channels.Result) ([]crm.Event, error) {
	if len(items) == 0 && len(cursors) == 0 {
		return nil, nil
	}
	var (
		evs []crm.Event
		out []channels.Result
		err error
	)
	for attempt := 0; ; attempt++ {
		evs, out = nil, make([]channels.Result, len(items))
		err = s.rt.Transact(ctx, func(tx *gorm.DB, pub *realtime.Publication) error {
			if len(items) > 0 {
				var err error
				if out, evs, err = s.ingestBatch(tx, items); err != nil {
					return err
				}
			}
			for acc, c := range cursors {
				if err := crm.SetCursor(tx, acc, c); err != nil {
					return fmt.Errorf("cursor: %w", err)
				}
			}
			return s.rt.Write(tx, evs, pub)
		})
		if err == nil || attempt >= 5 || !retryable(err) || ctx.Err() != nil {
			break
		}
		s.log.Debug("ingest: retrying after a concurrent write", "attempt", attempt+1, "err", err)
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	for i, it := range items {
		results[it.idx] = out[i]
	}
	return evs, nil
}

// retryable reports errors a retry of the whole transaction resolves: a
// unique key taken by a concurrent ingest, a serialization failure or
// deadlock, a busy SQLite.
func retryable(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "SQLSTATE 40001") || strings.Contains(s, "SQLSTATE 40P01") ||
		strings.Contains(s, "database is locked") || strings.Contains(s, "SQLITE_BUSY")
}

type convKey struct {
	contact, account int64
	thread           string
}

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
}

// batchState is what the batch's lookups found, kept up to date as the
// batch is planned.
type batchState struct {
	touches    map[touchKey]int64
	identities map[crm.Key]int64
	contacts   map[int64]*contactState
	convs      map[convKey]*crm.Conversation
	convLoaded map[convKey]bool // keys of stored contacts whose conversation was looked up
	convByID   map[int64]*crm.Conversation
	parentConv map[touchKey]int64 // a stored parent message's conversation (Inbound.Parents)
	stored     map[int64]bool     // contacts that existed before the batch
	deals      map[int64]*dealState
	eps        map[touchKey]*crm.EntryPoint
	firstStage int64
	audit      crm.AuditChain
}

func (s *Sink) preload(tx *gorm.DB, items []*item) (*batchState, error) {
	st := &batchState{
		touches: map[touchKey]int64{}, identities: map[crm.Key]int64{}, contacts: map[int64]*contactState{},
		convs: map[convKey]*crm.Conversation{}, convLoaded: map[convKey]bool{}, convByID: map[int64]*crm.Conversation{}, parentConv: map[touchKey]int64{}, stored: map[int64]bool{}, deals: map[int64]*dealState{}, eps: map[touchKey]*crm.EntryPoint{},
	}
	// Touches already stored.
	exts := map[int64][]string{}
	for _, it := range items {
		exts[it.in.AccountID] = append(exts[it.in.AccountID], it.in.ExternalID)
	}
	for acc, ids := range exts {
		in, list := crm.In(tx, "external_id", ids)
		if err := crm.Query(tx, func(r *sql.Rows) error {
			var id int64
			var ext string
			if err := r.Scan(&id, &ext); err != nil {
				return err
			}
			st.touches[touchKey{acc, ext}] = id
			return nil
		}, "SELECT id, external_id FROM touches WHERE account_id = ? AND "+in, acc, list); err != nil {
			return nil, fmt.Errorf("existing touches: %w", err)
		}
	}
	// Identities, by kind.
	byKind := map[crm.IdentityKind][]string{}
	for _, it := range items {
		for _, k := range it.keys {
			byKind[k.Kind] = append(byKind[k.Kind], k.Value)
		}
	}
	for kind, vals := range byKind {
		in, list := crm.In(tx, "value", vals)
		if err := crm.Query(tx, func(r *sql.Rows) error {
			var c int64
			var v string
			if err := r.Scan(&c, &v); err != nil {
				return err
			}
			st.identities[crm.Key{Kind: kind, Value: v}] = c
			return nil
		}, "SELECT contact_id, value FROM identities WHERE kind = ? AND "+in, string(kind), list); err != nil {
			return nil, fmt.Errorf("identities: %w", err)
		}
	}
	var contactIDs []int64
	for _, c := range st.identities {
		if _, ok := st.contacts[c]; !ok {
			st.contacts[c] = nil
			st.stored[c] = true
			contactIDs = append(contactIDs, c)
		}
	}
	if len(contactIDs) > 0 {
		in, list := crm.In(tx, "id", contactIDs)
		if err := crm.Query(tx, func(r *sql.Rows) error {
			var id int64
			var resp sql.NullInt64
			cs := &contactState{}
			if err := r.Scan(&id, &cs.name, &resp); err != nil {
				return err
			}
			if resp.Valid {
				cs.responsible = &resp.Int64
			}
			st.contacts[id] = cs
			return nil
		}, "SELECT id, name, responsible_id FROM contacts WHERE "+in, list); err != nil {
			return nil, fmt.Errorf("contacts: %w", err)
		}
		// Conversations are found by (contact, account, thread): load just
		// those keys' rows, one index seek each (IN lists per column would
		// seek their cross product), not every conversation of the contacts.
		var keys [][]any
		for _, it := range items {
			for _, key := range it.keys {
				c, ok := st.identities[key]
				if !ok {
					continue
				}
				k := convKey{c, it.in.AccountID, it.in.ThreadKey}
				if !st.convLoaded[k] {
					st.convLoaded[k] = true
					keys = append(keys, []any{k.contact, k.account, k.thread})
				}
			}
		}
		var convs []crm.Conversation
		if len(keys) > 0 {
			cond, cargs, err := crm.InTuples(tx, "conversations", []string{"contact_id", "account_id", "thread_key"}, keys)
			if err != nil {
				return nil, err
			}
			if err := crm.Query(tx, func(r *sql.Rows) error {
				var c crm.Conversation
				err := tx.ScanRows(r, &c)
				convs = append(convs, c)
				return err
			}, "SELECT * FROM conversations WHERE "+cond, cargs...); err != nil {
				return nil, fmt.Errorf("conversations: %w", err)
			}
		}
		slices.SortFunc(convs, func(a, b crm.Conversation) int { return cmp.Compare(a.ID, b.ID) })
		for i := range convs {
			c := &convs[i]
			st.convs[convKey{c.ContactID, c.AccountID, c.ThreadKey}] = c // latest wins
			st.convByID[c.ID] = c
		}
		if err := st.loadParents(tx, items); err != nil {
			return nil, err
		}
		in, list = crm.In(tx, "contact_id", contactIDs)
		if err := crm.Query(tx, func(r *sql.Rows) error {
			var id, contact int64
			var status string
			if err := r.Scan(&id, &contact, &status); err != nil {
				return err
			}
			ds := st.deal(contact)
			ds.total++
			if status == string(crm.DealOpen) {
				ds.open = append(ds.open, id)
			}
			return nil
		}, "SELECT id, contact_id, status FROM deals WHERE "+in+" ORDER BY id", list); err != nil {
			return nil, fmt.Errorf("deals: %w", err)
		}
	}
	// Entry points with their bindings (what crm.FindEntryPoint loads);
	// the ones not found are created as the batch meets them.
	var addrs []string
	seenAddr := map[string]bool{}
	for _, it := range items {
		if addr := strings.TrimSpace(it.in.EntryPoint); addr != "" && !seenAddr[addr] {
			seenAddr[addr] = true
			addrs = append(addrs, addr)
		}
	}
	if len(addrs) > 0 {
		var eps []crm.EntryPoint
		if err := tx.Where("address IN ?", addrs).Find(&eps).Error; err != nil {
			return nil, fmt.Errorf("entry points: %w", err)
		}
		accs := map[int64]bool{}
		for _, it := range items {
			accs[it.in.AccountID] = true
		}
		var epIDs []int64
		byID := map[int64]*crm.EntryPoint{}
		for i := range eps {
			if e := &eps[i]; accs[e.AccountID] {
				st.eps[touchKey{e.AccountID, e.Address}] = e
				byID[e.ID] = e
				epIDs = append(epIDs, e.ID)
			}
		}
		if len(epIDs) > 0 {
			var bs []crm.Binding
			if err := tx.Where("entry_point_id IN ?", epIDs).Find(&bs).Error; err != nil {
				return nil, fmt.Errorf("entry point bindings: %w", err)
			}
			for _, b := range bs {
				e := byID[b.EntryPointID]
				e.Bindings = append(e.Bindings, b)
			}
			for _, e := range byID {
				sort.Slice(e.Bindings, func(i, j int) bool { return e.Bindings[i].ValidFrom.Before(e.Bindings[j].ValidFrom) })
			}
		}
	}
	stages, err := crm.Int64s(tx, "SELECT id FROM pipeline_stages WHERE kind = 'open' ORDER BY position LIMIT 1")
	if err != nil || len(stages) == 0 {
		return nil, fmt.Errorf("pipeline has no open stage: %v", err)
	}
	st.firstStage = stages[0]
	return st, nil
}

// loadParents finds the conversations of the stored messages the items
// answer (Inbound.Parents), for threading when the thread key finds none.
func (st *batchState) loadParents(tx *gorm.DB, items []*item) error {
	byAcc := map[int64][]string{}
	for _, it := range items {
		byAcc[it.in.AccountID] = append(byAcc[it.in.AccountID], it.in.Parents...)
	}
	var want []int64
	for acc, ids := range byAcc {
		if len(ids) == 0 {
			continue
		}
		in, list := crm.In(tx, "external_id", ids)
		if err := crm.Query(tx, func(r *sql.Rows) error {
			var ext string
			var conv int64
			if err := r.Scan(&ext, &conv); err != nil {
				return err
			}
			st.parentConv[touchKey{acc, ext}] = conv
			if st.convByID[conv] == nil {
				want = append(want, conv)
			}
			return nil
		}, "SELECT external_id, conversation_id FROM touches WHERE account_id = ? AND "+in, acc, list); err != nil {
			return fmt.Errorf("parent messages: %w", err)
		}
	}
	if len(want) == 0 {
		return nil
	}
	var convs []crm.Conversation
	in, list := crm.In(tx, "id", want)
	if err := tx.Where(in, list).Find(&convs).Error; err != nil {
		return fmt.Errorf("parent conversations: %w", err)
	}
	for i := range convs {
		if c := &convs[i]; st.convByID[c.ID] == nil {
			st.convByID[c.ID] = c
		}
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

// plan is what the batch decided for one item. Contacts and deals created
// by the batch carry a temporary negative id until their rows are written.
type plan struct {
	skip        bool // a duplicate: stores nothing
	dupOf       int  // ≥ 0: the earlier item of this batch with the same external id
	now         time.Time
	contact     int64
	others      []int64
	newContact  bool
	name        string // the contact's name as of this touch
	responsible *int64
	epID, srcID *int64
	deal        int64 // 0: unlinked
	newDeal     bool
	conv        *crm.Conversation
	touch       int64
}

// since is when what an item creates (contact, identity, deal,
// conversation) came to be: the touch's time, so a backfill of old mail
// dates its clients and deals by their first message, not by the import;
// never later than now (a clock ahead on the other side).
func (p *plan) since(it *item) time.Time {
	if it.at.Before(p.now) {
		return it.at
	}
	return p.now
}

// newContactRow is a contact the batch creates.
type newContactRow struct {
	name, search string
	at           time.Time
}

// renameRow names a contact that had no name.
type renameRow struct {
	contact int64
	name    string
	at      time.Time
}

// newDealRow is a deal the batch opens (rule 2).
type newDealRow struct {
	contact     int64
	title       string
	src         *int64
	responsible *int64
	at          time.Time
}

// ingestBatch stores the items in tx. It plans the whole batch in memory
// in item order — exactly the decisions storing them one by one would
// make — and writes each table with a few multi-row statements. It returns
// the touches' events unwritten: the caller writes them last.
func (s *Sink) ingestBatch(tx *gorm.DB, items []*item) ([]channels.Result, []crm.Event, error) {
	st, err := s.preload(tx, items)
	if err != nil {
		return nil, nil, err
	}
	out := make([]channels.Result, len(items))
	ps := make([]plan, len(items))
	fail := func(it *item, err error) ([]channels.Result, []crm.Event, error) {
		return nil, nil, fmt.Errorf("%s: %w", crm.Clip(it.in.ExternalID, 80), err)
	}

	// Identity → contact.
	var (
		contacts []newContactRow
		idents   []any // contact_id, kind, value, created_at
		renames  []renameRow
		refresh  []int64
		refSet   = map[int64]bool{}
		pending  = map[touchKey]int{}
	)
	for i, it := range items {
		p := &ps[i]
		p.dupOf = -1
		in := it.in
		tk := touchKey{in.AccountID, in.ExternalID}
		if id, ok := st.touches[tk]; ok {
			p.skip, out[i] = true, channels.Result{TouchID: id, Duplicate: true}
			continue
		}
		if j, ok := pending[tk]; ok {
			p.skip, p.dupOf = true, j
			continue
		}
		pending[tk] = i
		p.now = time.Now().UTC()
		for _, k := range it.keys {
			if c, ok := st.identities[k]; ok {
				if p.contact == 0 {
					p.contact = c
				} else if c != p.contact {
					p.others = append(p.others, c)
				}
			}
		}
		name := strings.TrimSpace(in.Name)
		if p.contact == 0 {
			p.newContact = true
			ids := make([]crm.Identity, len(it.keys))
			for j, k := range it.keys {
				ids[j] = crm.Identity{Kind: k.Kind, Value: k.Value}
			}
			c := crm.Contact{Name: name}
			contacts = append(contacts, newContactRow{name: name, search: crm.SearchText(&c, ids), at: p.since(it)})
			p.contact = -int64(len(contacts))
			st.contacts[p.contact] = &contactState{name: name}
		}
		added := false
		for _, k := range it.keys {
			if _, ok := st.identities[k]; ok {
				continue
			}
			idents = append(idents, p.contact, k.Kind, k.Value, p.since(it))
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
				renames = append(renames, renameRow{p.contact, name, p.now})
			}
			if !refSet[p.contact] {
				refSet[p.contact] = true
				refresh = append(refresh, p.contact)
			}
		}
		p.name, p.responsible = cs.name, cs.responsible
	}
	if len(contacts) > 0 {
		args := make([]any, 0, 4*len(contacts))
		for _, c := range contacts {
			args = append(args, c.name, c.search, c.at, c.at)
		}
		var ids []int64
		if err := crm.Bulk(tx, "INSERT INTO contacts (name, search, created_at, updated_at) VALUES ", "(?, ?, ?, ?)", " RETURNING id", 4, args, &ids); err != nil {
			return nil, nil, fmt.Errorf("contacts: %w", err)
		}
		real := func(id int64) int64 {
			if id < 0 {
				return ids[-id-1]
			}
			return id
		}
		for i := range ps {
			p := &ps[i]
			p.contact = real(p.contact)
			for j := range p.others {
				p.others[j] = real(p.others[j])
			}
		}
		for j := 0; j < len(idents); j += 4 {
			idents[j] = real(idents[j].(int64))
		}
		for j := range renames {
			renames[j].contact = real(renames[j].contact)
		}
		for j := range refresh {
			refresh[j] = real(refresh[j])
		}
	}
	if len(idents) > 0 {
		if err := crm.Bulk(tx, "INSERT INTO identities (contact_id, kind, value, created_at) VALUES ", "(?, ?, ?, ?)", "", 4, idents, nil); err != nil {
			return nil, nil, fmt.Errorf("identities: %w", err)
		}
	}
	for _, r := range renames {
		if err := tx.Exec("UPDATE contacts SET name = ?, updated_at = ? WHERE id = ?", r.name, r.at, r.contact).Error; err != nil {
			return nil, nil, err
		}
	}
	for _, c := range refresh {
		if err := crm.RefreshSearch(tx, c); err != nil {
			return nil, nil, err
		}
	}

	// Entry point → ad source at the touch's time; deal-link rules.
	var deals []newDealRow
	for i, it := range items {
		p := &ps[i]
		if p.skip {
			continue
		}
		in := it.in
		autoDeal := true
		if addr := strings.TrimSpace(in.EntryPoint); addr != "" {
			ek := touchKey{in.AccountID, addr}
			ep := st.eps[ek]
			if ep == nil {
				e, err := crm.FindEntryPoint(tx, in.AccountID, addr, in.SourceHint, true)
				if err != nil {
					return fail(it, fmt.Errorf("entry point: %w", err))
				}
				ep = &e
				st.eps[ek] = ep
			}
			p.epID, p.srcID, autoDeal = &ep.ID, ep.SourceAt(it.at), ep.AutoDeal
		}
		ds := st.deal(p.contact)
		switch {
		case len(ds.open) == 1:
			p.deal = ds.open[0]
		case ds.total == 0 && autoDeal && !in.Automated && !in.Outgoing:
			deals = append(deals, newDealRow{contact: p.contact, title: dealTitle(p.name, in), src: p.srcID, responsible: p.responsible, at: p.since(it)})
			p.deal, p.newDeal = -int64(len(deals)), true
			ds.total, ds.open = 1, []int64{p.deal}
		}
	}
	if len(deals) > 0 {
		args := make([]any, 0, 8*len(deals))
		for _, d := range deals {
			args = append(args, d.contact, d.title, st.firstStage, s.opts.Currency, d.src, d.responsible, d.at, d.at)
		}
		var ids []int64
		if err := crm.Bulk(tx, "INSERT INTO deals (contact_id, title, stage_id, status, amount, currency, ad_source_id, responsible_id, created_at, updated_at) VALUES ",
			"(?, ?, ?, 'open', 0, ?, ?, ?, ?, ?)", " RETURNING id", 8, args, &ids); err != nil {
			return nil, nil, fmt.Errorf("deals: %w", err)
		}
		for i := range ps {
			if p := &ps[i]; p.deal < 0 {
				p.deal = ids[-p.deal-1]
			}
		}
	}

	// The audit trail, in item order, in one insert.
	var recs []crm.AuditRecord
	for i, it := range items {
		p := &ps[i]
		if p.newContact {
			recs = append(recs, crm.AuditRecord{Action: "contact.create", ObjectType: "contact", ObjectID: p.contact,
				Data: map[string]any{"account_id": it.in.AccountID, "external_id": crm.Clip(it.in.ExternalID, 200), "handles": crm.KeyStrings(it.keys)}})
		}
		if p.newDeal {
			recs = append(recs, crm.AuditRecord{Action: "deal.open", ObjectType: "deal", ObjectID: p.deal,
				Data: map[string]any{"contact_id": p.contact, "ad_source_id": p.srcID, "rule": "first touch"}})
		}
	}
	if err := st.audit.AppendAll(tx, recs); err != nil {
		return nil, nil, err
	}

	// Conversation: find or open; an inbound reopens and waits for us.
	var opened, changed []*crm.Conversation
	isChanged := map[*crm.Conversation]bool{}
	// Conversations without a deal when the batch met them: if one gets a
	// deal, our earlier answers in it take it too (DESIGN: outbound
	// touches take the conversation's deal).
	noDeal := map[*crm.Conversation]bool{}
	batchConv := map[touchKey]*crm.Conversation{} // each item's conversation, by its external id
	for i, it := range items {
		p := &ps[i]
		if p.skip {
			continue
		}
		in := it.in
		var dealID *int64
		if p.deal != 0 {
			d := p.deal
			dealID = &d
		}
		ck := convKey{p.contact, in.AccountID, in.ThreadKey}
		conv := st.convs[ck]
		if conv == nil && st.stored[p.contact] && !st.convLoaded[ck] {
			// A contact this item reached through an identity an earlier
			// item of the batch added: its conversations were not preloaded.
			var found []crm.Conversation
			if err := tx.Where("contact_id = ? AND account_id = ? AND thread_key = ?", ck.contact, ck.account, ck.thread).Order("id DESC").Limit(1).Find(&found).Error; err != nil {
				return fail(it, fmt.Errorf("conversation: %w", err))
			}
			st.convLoaded[ck] = true
			if len(found) > 0 {
				if conv = st.convByID[found[0].ID]; conv == nil {
					conv = &found[0]
					st.convByID[conv.ID] = conv
				}
				st.convs[ck] = conv
			}
		}
		if conv == nil {
			// Threading by the messages this one answers, when its thread
			// key found nothing: a stored parent's conversation, or one
			// this batch opened for an earlier item.
			for _, par := range in.Parents {
				pk := touchKey{in.AccountID, par}
				c := batchConv[pk]
				if id, ok := st.parentConv[pk]; ok && c == nil {
					c = st.convByID[id]
				}
				if c != nil && c.ContactID == p.contact && c.AccountID == in.AccountID {
					conv = c
					st.convs[ck] = c
					break
				}
			}
		}
		preview := crm.Preview(in.Text, in.Subject, string(in.Kind))
		// An answered call is a conversation held, an outgoing message an
		// answer: nobody waits for a reply. Our automatic reply (a vacation
		// notice) answers nothing: the wait stays as it was.
		var waiting *time.Time
		keep := in.Outgoing && in.Automated
		if callStatus(in) != crm.CallAnswered && !in.Outgoing {
			at := it.at
			waiting = &at
		}
		if conv == nil {
			conv = &crm.Conversation{ContactID: p.contact, AccountID: in.AccountID, Channel: it.channel, ThreadKey: in.ThreadKey, AssigneeID: p.responsible,
				Status: crm.ConvOpen, WaitingSince: waiting, DealID: dealID, Subject: crm.Clip(in.Subject, 300), LastText: preview, LastTouchAt: it.at,
				CreatedAt: p.since(it), UpdatedAt: p.now}
			st.convs[ck] = conv
			opened = append(opened, conv)
			noDeal[conv] = dealID == nil
		} else {
			if _, seen := noDeal[conv]; !seen {
				noDeal[conv] = conv.DealID == nil
			}
			switch {
			case keep:
			case it.at.Before(conv.LastTouchAt):
				// Older than what the conversation last held (read late:
				// another folder first, a delayed delivery): the later
				// touches already decided whether anyone waits.
			case waiting == nil:
				conv.WaitingSince = nil
			case conv.WaitingSince == nil:
				conv.WaitingSince = waiting
			}
			if it.at.After(conv.LastTouchAt) {
				conv.LastTouchAt, conv.LastText = it.at, preview
			}
			if dealID != nil { // the conversation is about the deal its latest touch is on
				conv.DealID = dealID
			}
			if conv.Subject == "" {
				conv.Subject = crm.Clip(in.Subject, 300)
			}
			if !in.Outgoing { // the client wrote: the conversation is open again
				conv.Status, conv.SnoozedUntil = crm.ConvOpen, nil
			}
			conv.UpdatedAt = p.now
			if conv.ID != 0 && !isChanged[conv] {
				isChanged[conv] = true
				changed = append(changed, conv)
			}
		}
		p.conv = conv
		batchConv[touchKey{in.AccountID, in.ExternalID}] = conv
	}
	if len(opened) > 0 {
		args := make([]any, 0, 12*len(opened))
		for _, c := range opened {
			args = append(args, c.ContactID, c.AccountID, c.Channel, c.ThreadKey, c.AssigneeID, c.WaitingSince, c.DealID, c.Subject, c.LastText, c.LastTouchAt, c.CreatedAt, c.UpdatedAt)
		}
		var ids []int64
		if err := crm.Bulk(tx, "INSERT INTO conversations (contact_id, account_id, channel, thread_key, assignee_id, status, waiting_since, deal_id, subject, last_text, last_touch_at, created_at, updated_at) VALUES ",
			"(?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)", " RETURNING id", 12, args, &ids); err != nil {
			return nil, nil, fmt.Errorf("conversations: %w", err)
		}
		for j, c := range opened {
			c.ID = ids[j]
		}
	}
	if len(changed) > 0 {
		args := make([]any, 0, 7*len(changed))
		for _, c := range changed {
			args = append(args, c.ID, c.WaitingSince, c.LastTouchAt, c.LastText, c.DealID, c.Subject, c.UpdatedAt, string(c.Status), c.SnoozedUntil)
		}
		row := "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
		if crm.Dialect(tx) == migrations.Postgres {
			// VALUES parameters have no type on PostgreSQL.
			row = "(CAST(? AS BIGINT), CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ))"
		}
		if err := crm.Bulk(tx, `UPDATE conversations SET waiting_since = v.column2, last_touch_at = v.column3, last_text = v.column4, deal_id = v.column5,
			subject = v.column6, updated_at = v.column7, status = v.column8, snoozed_until = v.column9 FROM (VALUES `, row,
			") AS v WHERE conversations.id = v.column1", 9, args, nil); err != nil {
			return nil, nil, fmt.Errorf("conversations: %w", err)
		}
	}

	// The touches.
	var stored []int
	args := make([]any, 0, 18*len(items))
	for i, it := range items {
		p := &ps[i]
		if p.skip {
			continue
		}
		in := it.in
		var dealID *int64
		if p.deal != 0 {
			dealID = &p.deal
		}
		stored = append(stored, i)
		dir, delivery := crm.Inbound, ""
		if in.Outgoing { // sent outside Switchboard: it went out
			dir, delivery = crm.Outbound, crm.Sent
		}
		args = append(args, in.AccountID, it.channel, string(in.Kind), string(dir), delivery, in.ExternalID, p.contact, p.conv.ID, dealID, p.epID, p.srcID, it.handle,
			crm.Clip(in.Subject, 1000), in.Text, in.HTML, string(touchMeta(in)), in.Automated, callStatus(in), it.at, p.now)
	}
	if len(stored) == 0 {
		return out, nil, nil
	}
	var touchIDs []int64
	if err := crm.Bulk(tx, "INSERT INTO touches (account_id, channel, kind, direction, delivery_status, external_id, contact_id, conversation_id, deal_id, entry_point_id, ad_source_id, handle, subject, body, html, meta, automated, call_status, occurred_at, created_at) VALUES ",
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", " RETURNING id", 20, args, &touchIDs); err != nil {
		return nil, nil, fmt.Errorf("touches: %w", err)
	}
	byItem := make(map[int]int64, len(stored))
	for j, i := range stored {
		ps[i].touch = touchIDs[j]
		out[i] = channels.Result{TouchID: touchIDs[j]}
		byItem[i] = touchIDs[j]
	}
	// An unlinked answer of ours (a first mail written from a mail program)
	// in a conversation that got a deal since: it takes the deal.
	for conv, none := range noDeal {
		if !none || conv.DealID == nil {
			continue
		}
		if err := tx.Exec("UPDATE touches SET deal_id = ? WHERE conversation_id = ? AND direction = ? AND deal_id IS NULL AND not_a_sale = ''",
			*conv.DealID, conv.ID, crm.Outbound).Error; err != nil {
			return nil, nil, fmt.Errorf("answers to the conversation's deal: %w", err)
		}
	}
	if err := afterTouches(tx, items, byItem); err != nil {
		return nil, nil, err
	}
	for i := range ps {
		if j := ps[i].dupOf; j >= 0 {
			out[i] = channels.Result{TouchID: ps[j].touch, Duplicate: true}
		}
	}

	// A message whose handles belong to several contacts: merge hints for
	// the contact panel (crm.Duplicates).
	args = args[:0]
	for _, i := range stored {
		seen := map[int64]bool{}
		for _, o := range ps[i].others {
			if !seen[o] {
				seen[o] = true
				args = append(args, ps[i].contact, o, ps[i].touch, ps[i].now)
			}
		}
	}
	if len(args) > 0 {
		if err := crm.Bulk(tx, "INSERT INTO merge_hints (contact_id, other_id, touch_id, created_at) VALUES ", "(?, ?, ?, ?)", "", 4, args, nil); err != nil {
			return nil, nil, fmt.Errorf("merge hints: %w", err)
		}
	}

	// One event per touch, written by the caller as the transaction's last
	// statement (crm.InsertEvents).
	evs := make([]crm.Event, len(stored))
	for j, i := range stored {
		p, it := &ps[i], items[i]
		var dealID *int64
		if p.deal != 0 {
			dealID = &p.deal
		}
		data := map[string]any{"contact_id": p.contact, "account_id": it.in.AccountID, "deal_id": dealID, "unlinked": dealID == nil, "assignee_id": p.conv.AssigneeID}
		if it.in.Outgoing {
			data["direction"] = crm.Outbound
		}
		if len(p.others) > 0 {
			data["merge_hint"] = p.others
			s.log.Info("ingest: handles of one message belong to several contacts", "contact", p.contact, "others", p.others)
		}
		raw, err := json.Marshal(data)
		if err != nil {
			return fail(it, fmt.Errorf("crm: event %s: %w", crm.EventTouchAdded, err))
		}
		conv, touch := p.conv.ID, p.touch
		evs[j] = crm.Event{At: time.Now().UTC(), Type: crm.EventTouchAdded, ConversationID: &conv, TouchID: &touch, Data: raw}
	}
	return out, evs, nil
}

func touchMeta(in *channels.Inbound) []byte {
	m := map[string]string{}
	for k, v := range in.Meta {
		m[k] = v
	}
	if in.Call != nil {
		m["call_answered"] = fmt.Sprint(in.Call.Answered)
		m["call_duration_s"] = fmt.Sprint(int(in.Call.Duration.Seconds()))
		if in.Call.RecordingURL != "" {
			m["call_recording_url"] = in.Call.RecordingURL
		}
	}
	return crm.MetaJSON(m)
}

// callStatus is a call's outcome for the call-back queue; "" for a
// touch that is not a call.
func callStatus(in *channels.Inbound) string {
	switch {
	case in.Kind != channels.Call:
		return ""
	case in.Call != nil && in.Call.Answered:
		return crm.CallAnswered
	}
	return crm.CallMissed // a call without its outcome reached nobody we know of
}

func dealTitle(name string, in *channels.Inbound) string {
	if name == "" {
		name = strings.TrimSpace(in.Name)
	}
	if name == "" && len(in.From) > 0 {
		name = in.From[0].Value
	}
	return crm.Clip(name, 200)
}
