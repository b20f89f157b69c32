package demo

// The end of the run: the records get their simulated times, and the team
// tidies its queues.

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/migrations"
)

// backdate gives the records the simulated times: the conversations'
// last touch, preview and "waiting since" replayed from their touches
// (as Ingest and Reply keep them), creation times from the first touch,
// the deals' from the script. The audit trail and the event log are left
// as written.
func (g *demoGen) backdate() error {
	tx := g.db.WithContext(g.ctx)
	firstBy, lastBy, firstHandle, err := g.backdateConversations(tx)
	if err != nil {
		return err
	}
	if err := g.backdateContacts(tx, firstBy, lastBy, firstHandle); err != nil {
		return err
	}
	if err := g.backdateDeals(tx); err != nil {
		return err
	}
	if err := g.backdateSetup(tx); err != nil {
		return err
	}
	return g.backdateSpend(tx)
}

// backdateConversations replays the conversations from their touches, and
// returns each contact's first and last touch and each handle's first.
func (g *demoGen) backdateConversations(tx *gorm.DB) (firstBy, lastBy map[int64]time.Time, firstHandle map[string]time.Time, err error) {
	type row struct {
		ConversationID int64
		ContactID      int64
		Handle         string
		Direction      crm.Direction
		Kind           string
		CallStatus     string
		Subject        string
		Body           string
		OccurredAt     time.Time
	}
	var rows []row
	if err := tx.Table("touches").Select("conversation_id, contact_id, handle, direction, kind, call_status, subject, body, occurred_at").Order("conversation_id, occurred_at, id").Scan(&rows).Error; err != nil {
		return nil, nil, nil, err
	}
	firstBy, lastBy = map[int64]time.Time{}, map[int64]time.Time{}
	firstHandle = map[string]time.Time{}
	var convRows [][]any
	for i := 0; i < len(rows); {
		j := i
		var waiting *time.Time
		for j < len(rows) && rows[j].ConversationID == rows[i].ConversationID {
			r := rows[j]
			if r.Direction == crm.Inbound && r.CallStatus != crm.CallAnswered { // as ingest does
				if waiting == nil {
					at := r.OccurredAt
					waiting = &at
				}
			} else {
				waiting = nil
			}
			if f, ok := firstBy[r.ContactID]; !ok || r.OccurredAt.Before(f) {
				firstBy[r.ContactID] = r.OccurredAt
			}
			if r.OccurredAt.After(lastBy[r.ContactID]) {
				lastBy[r.ContactID] = r.OccurredAt
			}
			if f, ok := firstHandle[r.Handle]; !ok || r.OccurredAt.Before(f) {
				firstHandle[r.Handle] = r.OccurredAt
			}
			j++
		}
		last := rows[j-1]
		preview := crm.Preview(last.Body, last.Subject, last.Kind)
		if last.Direction == crm.Outbound {
			preview = crm.Preview(last.Body, "📎")
		}
		convRows = append(convRows, []any{rows[i].ConversationID, rows[i].OccurredAt, last.OccurredAt, last.OccurredAt, preview, waiting})
		i = j
	}
	if err := demoUpdate(tx, "conversations", []string{"id", "created_at", "updated_at", "last_touch_at", "last_text", "waiting_since"},
		[]string{"BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ", "TIMESTAMPTZ", "TEXT", "TIMESTAMPTZ"}, convRows); err != nil {
		return nil, nil, nil, err
	}
	return firstBy, lastBy, firstHandle, nil
}

// backdateContacts dates contacts from their touches and identities from
// their handle's first touch (or, unseen, their contact's).
func (g *demoGen) backdateContacts(tx *gorm.DB, firstBy, lastBy map[int64]time.Time, firstHandle map[string]time.Time) error {
	var contactRows [][]any
	for id, first := range firstBy {
		contactRows = append(contactRows, []any{id, first, lastBy[id]})
	}
	if err := demoUpdate(tx, "contacts", []string{"id", "created_at", "updated_at"}, []string{"BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ"}, contactRows); err != nil {
		return err
	}
	var idents []crm.Identity
	if err := tx.Find(&idents).Error; err != nil {
		return err
	}
	var identRows [][]any
	for _, i := range idents {
		at, ok := firstHandle[i.Handle()]
		if !ok {
			at, ok = firstBy[i.ContactID]
		}
		if ok {
			identRows = append(identRows, []any{i.ID, at})
		}
	}
	return demoUpdate(tx, "identities", []string{"id", "created_at"}, []string{"BIGINT", "TIMESTAMPTZ"}, identRows)
}

// backdateDeals dates the deals from the script.
func (g *demoGen) backdateDeals(tx *gorm.DB) error {
	var dealRows [][]any
	for id, at := range g.dealCreated {
		up := at
		if u, ok := g.dealUpdated[id]; ok && u.After(up) {
			up = u
		}
		var closed *time.Time
		if c, ok := g.dealClosed[id]; ok {
			c = c.UTC()
			closed = &c
		}
		dealRows = append(dealRows, []any{id, at.UTC(), up.UTC(), closed})
	}
	return demoUpdate(tx, "deals", []string{"id", "created_at", "updated_at", "closed_at"}, []string{"BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ", "TIMESTAMPTZ"}, dealRows)
}

// backdateSetup: the setup happened before the period; entry points first
// seen by Ingest date from their first touch.
func (g *demoGen) backdateSetup(tx *gorm.DB) error {
	setup := g.setupAt
	emails := make([]string, 0, len(g.d.Company.Staff))
	for _, s := range g.d.Company.Staff {
		emails = append(emails, s.Email)
	}
	ids := make([]int64, 0, len(emails))
	var staff []crm.User
	if err := tx.Where("email IN ?", emails).Find(&staff).Error; err != nil {
		return err
	}
	for _, u := range staff {
		ids = append(ids, u.ID)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE users SET created_at = ?, updated_at = ? WHERE id IN ?", []any{setup.Add(-30 * 24 * time.Hour), setup.Add(-30 * 24 * time.Hour), ids}},
		{"UPDATE accounts SET created_at = ?, updated_at = ?", []any{setup, setup}},
		{"UPDATE accounts SET updated_at = ? WHERE enabled = ?", []any{g.end, false}},
		{"UPDATE ad_sources SET created_at = ?", []any{setup}},
		{"UPDATE entry_points SET created_at = ? WHERE id IN ?", []any{setup, g.epIDs}},
		{"UPDATE entry_points SET created_at = COALESCE((SELECT MIN(occurred_at) FROM touches t WHERE t.entry_point_id = entry_points.id), created_at) WHERE id NOT IN ?", []any{g.epIDs}},
		{"UPDATE entry_point_bindings SET created_at = ? WHERE valid_from < ?", []any{setup, g.start}},
		{"UPDATE entry_point_bindings SET created_at = ? WHERE valid_from >= ?", []any{g.rebind.Add(-24 * time.Hour).UTC(), g.start}},
	} {
		if err := demoExec(tx, q.sql, q.args...); err != nil {
			return err
		}
	}
	return nil
}

// backdateSpend: spend is entered the day after its period (the current
// one today).
func (g *demoGen) backdateSpend(tx *gorm.DB) error {
	var spends []crm.Spend
	if err := tx.Find(&spends).Error; err != nil {
		return err
	}
	for _, sp := range spends {
		at := time.Date(sp.PeriodEnd.Year(), sp.PeriodEnd.Month(), sp.PeriodEnd.Day(), 10, 0, 0, 0, g.loc).AddDate(0, 0, 1)
		if at.After(g.end) {
			at = g.end
		}
		if err := demoExec(tx, "UPDATE spends SET created_at = ? WHERE id = ?", at.UTC(), sp.ID); err != nil {
			return err
		}
	}
	return nil
}

func demoExec(tx *gorm.DB, q string, args ...any) error {
	if err := tx.Exec(q, args...).Error; err != nil {
		return fmt.Errorf("inbox: demo: backdate: %w", err)
	}
	return nil
}

// demoUpdate sets columns of many rows by id (the first column), a few
// hundred rows a statement: UPDATE … FROM (VALUES …). PostgreSQL needs the
// types of the VALUES; SQLite must not get them (its CAST would turn a
// time into a number).
func demoUpdate(tx *gorm.DB, table string, cols, types []string, rows [][]any) error {
	pg := crm.Dialect(tx) == migrations.Postgres
	ph := make([]string, len(cols))
	set := make([]string, 0, len(cols)-1)
	for i := range cols {
		ph[i] = "?"
		if pg {
			ph[i] = "CAST(? AS " + types[i] + ")"
		}
		if i > 0 {
			set = append(set, fmt.Sprintf("%s = v.column%d", cols[i], i+1))
		}
	}
	row := "(" + strings.Join(ph, ", ") + ")"
	for start := 0; start < len(rows); start += 200 {
		chunk := rows[start:min(len(rows), start+200)]
		var sb strings.Builder
		args := make([]any, 0, len(chunk)*len(cols))
		sb.WriteString("UPDATE " + table + " SET " + strings.Join(set, ", ") + " FROM (VALUES ")
		for i, r := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(row)
			args = append(args, r...)
		}
		sb.WriteString(") AS v WHERE " + table + ".id = v.column1")
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("inbox: demo: backdate %s: %w", table, err)
		}
	}
	return nil
}

// tidy closes what a team would have closed by now: conversations nobody
// touched for two weeks (the talk ended, or the client went silent), by
// their manager or, unassigned, by the lead. The queues then hold the last
// fortnight, as in a business that keeps its inbox.
func (g *demoGen) tidy() error {
	var convs []crm.Conversation
	if err := g.db.WithContext(g.ctx).Where("status = ? AND last_touch_at < ?", crm.ConvOpen, g.opts.Now.Add(-14*24*time.Hour)).
		Order("id").Find(&convs).Error; err != nil {
		return err
	}
	staff := map[int64]crm.User{g.lead.ID: g.lead}
	for _, m := range g.managers {
		staff[m.ID] = m
	}
	for _, c := range convs {
		by := g.lead
		if c.AssigneeID != nil {
			if m, ok := staff[*c.AssigneeID]; ok {
				by = m
			}
		}
		if _, err := g.a.SetConversationStatus(g.ctx, by, c.ID, crm.ConvClosed, nil); err != nil {
			return fmt.Errorf("demo: close conversation %d: %w", c.ID, err)
		}
	}
	return nil
}

// snooze has the managers put a few answered conversations aside, as
// people do with a client who will decide next week: until tomorrow 9:00
// or a few days on. They come back to Mine by themselves.
func (g *demoGen) snooze() error {
	var convs []crm.Conversation
	if err := g.db.WithContext(g.ctx).Where("status = ? AND assignee_id IS NOT NULL AND waiting_since IS NULL", crm.ConvOpen).
		Order("last_touch_at DESC, id DESC").Limit(4).Find(&convs).Error; err != nil {
		return err
	}
	base := g.opts.Now
	if now := time.Now(); base.Before(now) { // a demo of the past still snoozes into the future
		base = now
	}
	day := base.In(g.loc)
	for i, c := range convs {
		until := time.Date(day.Year(), day.Month(), day.Day()+1+2*i, 9, 0, 0, 0, g.loc)
		by, err := crm.GetUser(g.db.WithContext(g.ctx), *c.AssigneeID)
		if err != nil {
			return err
		}
		if _, err := g.a.SetConversationStatus(g.ctx, by, c.ID, crm.ConvSnoozed, &until); err != nil {
			return fmt.Errorf("demo: snooze conversation %d: %w", c.ID, err)
		}
	}
	return nil
}
