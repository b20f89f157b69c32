package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// Limits on what one inbound may carry.
const (
	maxExternalID = 512
	maxText       = 1 << 20
	previewLen    = 200
)

// item is one validated inbound of a batch.
type item struct {
	idx    int
	in     *channels.Inbound
	keys   []crm.Key
	at     time.Time
	handle string
}

// Ingest stores a batch of inbound events: each becomes one touch, tied to
// a contact, an entry point and its ad source, a conversation and, by the
// deal-link rules, a deal. The whole batch is one transaction with the
// account cursor; an event delivered before is reported as a duplicate and
// stores nothing. An event that fails validation gets its error in its
// Result and is logged; the rest of the batch is stored. Events are
// published to the hub after commit. The returned error is set only when
// nothing could be stored (the database is down, ctx ended).
func (a *App) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	results := make([]channels.Result, len(batch))
	items := make([]*item, 0, len(batch))
	cursors := map[int64]string{}
	for i := range batch {
		in := &batch[i]
		if in.Cursor != "" {
			cursors[in.AccountID] = in.Cursor
		}
		it, err := a.prepare(in)
		if err != nil {
			results[i].Err = err
			a.log.Warn("ingest: rejected", "account", in.AccountID, "external_id", clip(in.ExternalID, 80), "err", err)
			continue
		}
		it.idx = i
		items = append(items, it)
	}
	if err := a.checkAccounts(ctx, items, results); err != nil {
		return results, err
	}
	live := items[:0]
	for _, it := range items {
		if results[it.idx].Err == nil {
			live = append(live, it)
		}
	}
	evs, err := a.ingestTx(ctx, live, cursors, results)
	if err != nil && len(live) > 1 && ctx.Err() == nil {
		// One bad event must not cost the batch: store them one by one.
		a.log.Warn("ingest: batch failed, retrying one by one", "size", len(live), "err", err)
		evs, err = nil, nil
		stored := 0
		var lastErr error
		for _, it := range live {
			e, ierr := a.ingestTx(ctx, []*item{it}, cursorOf(it), results)
			if ierr != nil {
				results[it.idx].Err = ierr
				lastErr = ierr
				a.log.Error("ingest: event not stored", "account", it.in.AccountID, "external_id", clip(it.in.ExternalID, 80), "err", ierr)
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
		a.log.Error("ingest: not stored", "size", len(live), "err", err)
	}
	a.hub.Publish(evs...)
	return results, err
}

func cursorOf(it *item) map[int64]string {
	if it.in.Cursor == "" {
		return nil
	}
	return map[int64]string{it.in.AccountID: it.in.Cursor}
}

// prepare validates an inbound and normalizes its handles.
func (a *App) prepare(in *channels.Inbound) (*item, error) {
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
	in.Text, in.Subject, in.Name, in.HTML = stripNUL(in.Text), stripNUL(in.Subject), stripNUL(in.Name), stripNUL(in.HTML)
	raw := make([]crm.RawHandle, len(in.From))
	for i, h := range in.From {
		raw[i] = crm.RawHandle{Kind: h.Kind, Value: h.Value}
	}
	keys, err := crm.NormalizeAll(raw, a.opts.Region)
	if err != nil {
		return nil, err
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	return &item{in: in, keys: keys, at: at.UTC().Truncate(time.Microsecond), handle: keys[0].String()}, nil
}

// checkAccounts rejects events for unknown or disabled accounts.
func (a *App) checkAccounts(ctx context.Context, items []*item, results []channels.Result) error {
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
	if err := a.db.WithContext(ctx).Select("id", "channel", "enabled").Where("id IN ?", list).Find(&accs).Error; err != nil {
		return fmt.Errorf("inbox: ingest: accounts: %w", err)
	}
	known := map[int64]crm.Account{}
	for _, ac := range accs {
		known[ac.ID] = ac
	}
	for _, it := range items {
		ac, ok := known[it.in.AccountID]
		if !ok {
			results[it.idx].Err = crm.Invalid("account %d does not exist", it.in.AccountID)
			a.log.Warn("ingest: rejected", "account", it.in.AccountID, "err", results[it.idx].Err)
		} else {
			it.in.Kind = defaultKind(it.in.Kind, ac.Channel)
			if it.in.AccountID != 0 && !ac.Enabled {
				results[it.idx].Err = crm.Invalid("account %d is disabled", it.in.AccountID)
			}
		}
	}
	return nil
}

func defaultKind(k channels.TouchKind, channel string) channels.TouchKind {
	if k != "" {
		return k
	}
	switch channels.Kind(channel) {
	case channels.Phone:
		return channels.Call
	case channels.Email:
		return channels.Mail
	case channels.Web:
		return channels.Form
	}
	return channels.Message
}

// ingestTx stores items in one transaction, retrying when a concurrent
// writer created the same contact or touch first.
func (a *App) ingestTx(ctx context.Context, items []*item, cursors map[int64]string, results []channels.Result) ([]crm.Event, error) {
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
		err = a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			st, err := a.preload(tx, items)
			if err != nil {
				return err
			}
			for i, it := range items {
				r, ev, err := a.ingestOne(tx, st, it)
				if err != nil {
					return fmt.Errorf("%s: %w", clip(it.in.ExternalID, 80), err)
				}
				out[i] = r
				if ev != nil {
					evs = append(evs, *ev)
				}
			}
			for acc, c := range cursors {
				if err := crm.SetCursor(tx, acc, c); err != nil {
					return fmt.Errorf("cursor: %w", err)
				}
			}
			return nil
		})
		if err == nil || attempt >= 5 || !retryable(err) || ctx.Err() != nil {
			break
		}
		a.log.Debug("ingest: retrying after a concurrent write", "attempt", attempt+1, "err", err)
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("inbox: ingest: %w", err)
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
// batch writes.
type batchState struct {
	touches    map[touchKey]int64
	identities map[crm.Key]int64
	contacts   map[int64]*contactState
	convs      map[convKey]*crm.Conversation
	deals      map[int64]*dealState
	eps        map[touchKey]*crm.EntryPoint
	firstStage int64
	audit      crm.AuditChain
}

func (a *App) preload(tx *gorm.DB, items []*item) (*batchState, error) {
	st := &batchState{
		touches: map[touchKey]int64{}, identities: map[crm.Key]int64{}, contacts: map[int64]*contactState{},
		convs: map[convKey]*crm.Conversation{}, deals: map[int64]*dealState{}, eps: map[touchKey]*crm.EntryPoint{},
	}
	// Touches already stored.
	exts := map[int64][]string{}
	for _, it := range items {
		exts[it.in.AccountID] = append(exts[it.in.AccountID], it.in.ExternalID)
	}
	for acc, ids := range exts {
		var rows []struct {
			ID         int64
			ExternalID string
		}
		if err := tx.Raw("SELECT id, external_id FROM touches WHERE account_id = ? AND external_id IN ?", acc, ids).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("existing touches: %w", err)
		}
		for _, r := range rows {
			st.touches[touchKey{acc, r.ExternalID}] = r.ID
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
		var rows []crm.Identity
		if err := tx.Raw("SELECT id, contact_id, kind, value FROM identities WHERE kind = ? AND value IN ?", kind, vals).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("identities: %w", err)
		}
		for _, r := range rows {
			st.identities[crm.Key{Kind: r.Kind, Value: r.Value}] = r.ContactID
		}
	}
	var contactIDs []int64
	for _, c := range st.identities {
		if _, ok := st.contacts[c]; !ok {
			st.contacts[c] = nil
			contactIDs = append(contactIDs, c)
		}
	}
	if len(contactIDs) > 0 {
		var cs []struct {
			ID            int64
			Name          string
			ResponsibleID *int64
		}
		if err := tx.Raw("SELECT id, name, responsible_id FROM contacts WHERE id IN ?", contactIDs).Scan(&cs).Error; err != nil {
			return nil, fmt.Errorf("contacts: %w", err)
		}
		for _, c := range cs {
			st.contacts[c.ID] = &contactState{name: c.Name, responsible: c.ResponsibleID}
		}
		var convs []crm.Conversation
		if err := tx.Where("contact_id IN ?", contactIDs).Order("id").Find(&convs).Error; err != nil {
			return nil, fmt.Errorf("conversations: %w", err)
		}
		for i := range convs {
			c := &convs[i]
			st.convs[convKey{c.ContactID, c.AccountID, c.ThreadKey}] = c // latest wins
		}
		var deals []struct {
			ID        int64
			ContactID int64
			Status    string
		}
		if err := tx.Raw("SELECT id, contact_id, status FROM deals WHERE contact_id IN ? ORDER BY id", contactIDs).Scan(&deals).Error; err != nil {
			return nil, fmt.Errorf("deals: %w", err)
		}
		for _, d := range deals {
			ds := st.deal(d.ContactID)
			ds.total++
			if d.Status == string(crm.DealOpen) {
				ds.open = append(ds.open, d.ID)
			}
		}
	}
	if err := tx.Raw("SELECT id FROM pipeline_stages WHERE kind = 'open' ORDER BY position LIMIT 1").Scan(&st.firstStage).Error; err != nil || st.firstStage == 0 {
		return nil, fmt.Errorf("pipeline has no open stage: %v", err)
	}
	return st, nil
}

func (st *batchState) deal(contact int64) *dealState {
	ds := st.deals[contact]
	if ds == nil {
		ds = &dealState{}
		st.deals[contact] = ds
	}
	return ds
}

// ingestOne stores one event within the batch transaction.
func (a *App) ingestOne(tx *gorm.DB, st *batchState, it *item) (channels.Result, *crm.Event, error) {
	in := it.in
	tk := touchKey{in.AccountID, in.ExternalID}
	if id, ok := st.touches[tk]; ok {
		return channels.Result{TouchID: id, Duplicate: true}, nil, nil
	}
	now := time.Now().UTC()

	// Identity → contact.
	var contactID int64
	var others []int64
	for _, k := range it.keys {
		if c, ok := st.identities[k]; ok {
			if contactID == 0 {
				contactID = c
			} else if c != contactID {
				others = append(others, c)
			}
		}
	}
	newContact := contactID == 0
	if newContact {
		c := crm.Contact{Name: strings.TrimSpace(in.Name), CreatedAt: now, UpdatedAt: now}
		ids := make([]crm.Identity, len(it.keys))
		for i, k := range it.keys {
			ids[i] = crm.Identity{Kind: k.Kind, Value: k.Value}
		}
		if err := tx.Raw("INSERT INTO contacts (name, search, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id",
			c.Name, crm.SearchText(&c, ids), now, now).Scan(&contactID).Error; err != nil {
			return channels.Result{}, nil, fmt.Errorf("contact: %w", err)
		}
		st.contacts[contactID] = &contactState{name: c.Name}
	}
	added := false
	for _, k := range it.keys {
		if _, ok := st.identities[k]; ok {
			continue
		}
		if err := tx.Exec("INSERT INTO identities (contact_id, kind, value, created_at) VALUES (?, ?, ?, ?)", contactID, k.Kind, k.Value, now).Error; err != nil {
			return channels.Result{}, nil, fmt.Errorf("identity %s: %w", k, err)
		}
		st.identities[k] = contactID
		added = true
	}
	cs := st.contacts[contactID]
	if cs == nil {
		cs = &contactState{}
		st.contacts[contactID] = cs
	}
	if !newContact && (added || (cs.name == "" && strings.TrimSpace(in.Name) != "")) {
		if cs.name == "" && strings.TrimSpace(in.Name) != "" {
			cs.name = strings.TrimSpace(in.Name)
			if err := tx.Exec("UPDATE contacts SET name = ?, updated_at = ? WHERE id = ?", cs.name, now, contactID).Error; err != nil {
				return channels.Result{}, nil, err
			}
		}
		if err := crm.RefreshSearch(tx, contactID); err != nil {
			return channels.Result{}, nil, err
		}
	}
	if newContact {
		if _, err := st.audit.Append(tx, nil, "contact.create", "contact", contactID,
			map[string]any{"account_id": in.AccountID, "external_id": clip(in.ExternalID, 200), "handles": keyStrings(it.keys)}); err != nil {
			return channels.Result{}, nil, err
		}
	}

	// Entry point → ad source at the touch's time.
	var epID, srcID *int64
	autoDeal := true
	if addr := strings.TrimSpace(in.EntryPoint); addr != "" {
		ek := touchKey{in.AccountID, addr}
		ep := st.eps[ek]
		if ep == nil {
			e, err := crm.FindEntryPoint(tx, in.AccountID, addr, in.SourceHint, true)
			if err != nil {
				return channels.Result{}, nil, fmt.Errorf("entry point: %w", err)
			}
			ep = &e
			st.eps[ek] = ep
		}
		epID, srcID, autoDeal = &ep.ID, ep.SourceAt(it.at), ep.AutoDeal
	}

	// Deal-link rules.
	ds := st.deal(contactID)
	var dealID *int64
	switch {
	case len(ds.open) == 1:
		dealID = &ds.open[0]
	case ds.total == 0 && autoDeal && !in.Automated:
		var id int64
		if err := tx.Raw(`INSERT INTO deals (contact_id, title, stage_id, status, amount, currency, ad_source_id, responsible_id, created_at, updated_at)
			VALUES (?, ?, ?, 'open', 0, ?, ?, ?, ?, ?) RETURNING id`,
			contactID, dealTitle(cs.name, in), st.firstStage, a.opts.Currency, srcID, cs.responsible, now, now).Scan(&id).Error; err != nil {
			return channels.Result{}, nil, fmt.Errorf("deal: %w", err)
		}
		ds.total, ds.open = 1, []int64{id}
		dealID = &id
		if _, err := st.audit.Append(tx, nil, "deal.open", "deal", id, map[string]any{"contact_id": contactID, "ad_source_id": srcID, "rule": "first touch"}); err != nil {
			return channels.Result{}, nil, err
		}
	}

	// Conversation: find or open; an inbound reopens and waits for us.
	ck := convKey{contactID, in.AccountID, in.ThreadKey}
	conv := st.convs[ck]
	preview := clip(firstNonEmpty(in.Text, in.Subject, string(in.Kind)), previewLen)
	if conv == nil {
		conv = &crm.Conversation{ContactID: contactID, AccountID: in.AccountID, ThreadKey: in.ThreadKey, AssigneeID: cs.responsible,
			Status: crm.ConvOpen, WaitingSince: &it.at, DealID: dealID, Subject: clip(in.Subject, 300), LastText: preview, LastTouchAt: it.at}
		if err := tx.Raw(`INSERT INTO conversations (contact_id, account_id, channel, thread_key, assignee_id, status, waiting_since, deal_id, subject, last_text, last_touch_at, created_at, updated_at)
			VALUES (?, ?, (SELECT channel FROM accounts WHERE id = ?), ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			contactID, in.AccountID, in.AccountID, in.ThreadKey, cs.responsible, it.at, dealID, conv.Subject, preview, it.at, now, now).Scan(&conv.ID).Error; err != nil {
			return channels.Result{}, nil, fmt.Errorf("conversation: %w", err)
		}
		st.convs[ck] = conv
	} else {
		if conv.WaitingSince == nil {
			conv.WaitingSince = &it.at
		}
		if it.at.After(conv.LastTouchAt) {
			conv.LastTouchAt, conv.LastText = it.at, preview
		}
		if conv.DealID == nil {
			conv.DealID = dealID
		}
		if conv.Subject == "" {
			conv.Subject = clip(in.Subject, 300)
		}
		conv.Status = crm.ConvOpen
		if err := tx.Exec(`UPDATE conversations SET status = 'open', snoozed_until = NULL, waiting_since = ?, last_touch_at = ?, last_text = ?, deal_id = ?, subject = ?, updated_at = ? WHERE id = ?`,
			conv.WaitingSince, conv.LastTouchAt, conv.LastText, conv.DealID, conv.Subject, now, conv.ID).Error; err != nil {
			return channels.Result{}, nil, fmt.Errorf("conversation: %w", err)
		}
	}

	// The touch.
	var touchID int64
	if err := tx.Raw(`INSERT INTO touches (account_id, channel, kind, direction, external_id, contact_id, conversation_id, deal_id, entry_point_id, ad_source_id, handle, subject, body, html, meta, automated, occurred_at, created_at)
		VALUES (?, (SELECT channel FROM accounts WHERE id = ?), ?, 'in', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.AccountID, in.AccountID, string(in.Kind), in.ExternalID, contactID, conv.ID, dealID, epID, srcID, it.handle,
		clip(in.Subject, 1000), in.Text, in.HTML, string(touchMeta(in)), in.Automated, it.at, now).Scan(&touchID).Error; err != nil {
		return channels.Result{}, nil, fmt.Errorf("touch: %w", err)
	}
	st.touches[tk] = touchID

	data := map[string]any{"contact_id": contactID, "account_id": in.AccountID, "deal_id": dealID, "unlinked": dealID == nil, "assignee_id": conv.AssigneeID}
	if len(others) > 0 {
		data["merge_hint"] = others
		a.log.Info("ingest: handles of one message belong to several contacts", "contact", contactID, "others", others)
	}
	ev, err := crm.AddEvent(tx, crm.EventTouchAdded, &conv.ID, &touchID, data)
	if err != nil {
		return channels.Result{}, nil, err
	}
	return channels.Result{TouchID: touchID}, &ev, nil
}

func stripNUL(s string) string { return strings.ReplaceAll(s, "\x00", "") }

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

func dealTitle(name string, in *channels.Inbound) string {
	if name == "" {
		name = strings.TrimSpace(in.Name)
	}
	if name == "" && len(in.From) > 0 {
		name = in.From[0].Value
	}
	return clip(name, 200)
}

func keyStrings(keys []crm.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// clip shortens s to at most n runes, never splitting a character.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
