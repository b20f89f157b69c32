package crm

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/migrations"
)

// The writes of an ingest batch: each table with a few multi-row
// statements (bulk.go). Rows inserted get their ids in the order given.

// InsertContacts creates contacts (Name, Search, CreatedAt; UpdatedAt is
// CreatedAt) and returns their ids in order.
func InsertContacts(tx *gorm.DB, cs []Contact) ([]int64, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 4*len(cs))
	for _, c := range cs {
		args = append(args, c.Name, c.Search, c.CreatedAt, c.CreatedAt)
	}
	var ids []int64
	if err := bulk(tx, "INSERT INTO contacts (name, search, created_at, updated_at) VALUES ", "(?, ?, ?, ?)", " RETURNING id", 4, args, &ids); err != nil {
		return nil, fmt.Errorf("crm: contacts: %w", err)
	}
	return ids, nil
}

// InsertIdentities stores identities (ContactID, Kind, Value, Ext, CreatedAt).
func InsertIdentities(tx *gorm.DB, ids []Identity) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 5*len(ids))
	for _, id := range ids {
		args = append(args, id.ContactID, string(id.Kind), id.Value, id.Ext, id.CreatedAt)
	}
	if err := bulk(tx, "INSERT INTO identities (contact_id, kind, value, ext, created_at) VALUES ", "(?, ?, ?, ?, ?)", "", 5, args, nil); err != nil {
		return fmt.Errorf("crm: identities: %w", err)
	}
	return nil
}

// NameContact sets the name of a contact that had none.
func NameContact(tx *gorm.DB, id int64, name string, at time.Time) error {
	if err := tx.Exec("UPDATE contacts SET name = ?, updated_at = ? WHERE id = ?", name, at, id).Error; err != nil {
		return fmt.Errorf("crm: name contact %d: %w", id, err)
	}
	return nil
}

// InsertDeals opens deals (ContactID, Title, StageID, Currency,
// AdSourceID, ResponsibleID, CreatedAt) with no amount and returns their
// ids in order.
func InsertDeals(tx *gorm.DB, ds []Deal) ([]int64, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 8*len(ds))
	for _, d := range ds {
		args = append(args, d.ContactID, d.Title, d.StageID, d.Currency, d.AdSourceID, d.ResponsibleID, d.CreatedAt, d.CreatedAt)
	}
	var ids []int64
	if err := bulk(tx, "INSERT INTO deals (contact_id, title, stage_id, status, amount, currency, ad_source_id, responsible_id, created_at, updated_at) VALUES ",
		"(?, ?, ?, 'open', 0, ?, ?, ?, ?, ?)", " RETURNING id", 8, args, &ids); err != nil {
		return nil, fmt.Errorf("crm: deals: %w", err)
	}
	return ids, nil
}

// InsertConversations opens conversations and sets their ids.
func InsertConversations(tx *gorm.DB, cs []*Conversation) error {
	if len(cs) == 0 {
		return nil
	}
	args := make([]any, 0, 13*len(cs))
	for _, c := range cs {
		status := c.Status
		if status == "" {
			status = ConvOpen
		}
		args = append(args, c.ContactID, c.AccountID, c.Channel, c.ThreadKey, c.AssigneeID, string(status), c.WaitingSince, c.DealID, c.Subject, c.LastText, c.LastTouchAt, c.CreatedAt, c.UpdatedAt)
	}
	var ids []int64
	if err := bulk(tx, "INSERT INTO conversations (contact_id, account_id, channel, thread_key, assignee_id, status, waiting_since, deal_id, subject, last_text, last_touch_at, created_at, updated_at) VALUES ",
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", " RETURNING id", 13, args, &ids); err != nil {
		return fmt.Errorf("crm: conversations: %w", err)
	}
	for i, c := range cs {
		c.ID = ids[i]
	}
	return nil
}

// UpdateConversationHeads stores what a new touch changes of a
// conversation: who waits since when, the last touch, the deal, the
// subject, the status.
func UpdateConversationHeads(tx *gorm.DB, cs []*Conversation) error {
	if len(cs) == 0 {
		return nil
	}
	args := make([]any, 0, 9*len(cs))
	for _, c := range cs {
		args = append(args, c.ID, c.WaitingSince, c.LastTouchAt, c.LastText, c.DealID, c.Subject, c.UpdatedAt, string(c.Status), c.SnoozedUntil)
	}
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
	if Dialect(tx) == migrations.Postgres {
		// VALUES parameters have no type on PostgreSQL.
		row = "(CAST(? AS BIGINT), CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ))"
	}
	if err := bulk(tx, `UPDATE conversations SET waiting_since = v.column2, last_touch_at = v.column3, last_text = v.column4, deal_id = v.column5,
		subject = v.column6, updated_at = v.column7, status = v.column8, snoozed_until = v.column9 FROM (VALUES `, row,
		") AS v WHERE conversations.id = v.column1", 9, args, nil); err != nil {
		return fmt.Errorf("crm: conversations: %w", err)
	}
	return nil
}

// InsertTouches stores touches and sets their ids. ParseError and EditOf
// are written only for the touches that have them.
func InsertTouches(tx *gorm.DB, ts []*Touch) error {
	if len(ts) == 0 {
		return nil
	}
	args := make([]any, 0, 23*len(ts))
	for _, t := range ts {
		var ext any
		if t.ExternalID != nil {
			ext = *t.ExternalID
		}
		args = append(args, t.AccountID, t.Channel, t.Kind, string(t.Direction), t.DeliveryStatus, ext, t.ContactID, t.ConversationID, t.DealID, t.NotASale, t.EntryPointID, t.AdSourceID, t.Handle,
			t.Subject, t.Body, t.HTML, string(t.Meta), t.Automated, t.History, t.CallStatus, t.AuthorID, t.OccurredAt, t.CreatedAt)
	}
	var ids []int64
	if err := bulk(tx, "INSERT INTO touches (account_id, channel, kind, direction, delivery_status, external_id, contact_id, conversation_id, deal_id, not_a_sale, entry_point_id, ad_source_id, handle, subject, body, html, meta, automated, history, call_status, author_id, occurred_at, created_at) VALUES ",
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", " RETURNING id", 23, args, &ids); err != nil {
		return fmt.Errorf("crm: touches: %w", err)
	}
	for i, t := range ts {
		t.ID = ids[i]
		if t.ParseError == "" && t.EditOf == "" {
			continue
		}
		if err := tx.Exec("UPDATE touches SET parse_error = ?, edit_of = ? WHERE id = ?", t.ParseError, t.EditOf, t.ID).Error; err != nil {
			return fmt.Errorf("crm: touch %d: %w", t.ID, err)
		}
	}
	return nil
}

// InsertAttachments stores the attachments of touches.
func InsertAttachments(tx *gorm.DB, as []Attachment) error {
	if len(as) == 0 {
		return nil
	}
	args := make([]any, 0, 8*len(as))
	for _, a := range as {
		args = append(args, a.TouchID, a.Name, a.ContentType, a.Size, a.SHA256, a.ContentID, a.Inline, a.CreatedAt)
	}
	if err := bulk(tx, "INSERT INTO attachments (touch_id, name, content_type, size, sha256, content_id, inline, created_at) VALUES ",
		"(?, ?, ?, ?, ?, ?, ?, ?)", "", 8, args, nil); err != nil {
		return fmt.Errorf("crm: attachments: %w", err)
	}
	return nil
}

// LinkAnswersToDeal gives a conversation's deal to our answers in it that
// have none (a first mail written from a mail program, before the
// conversation had a deal).
func LinkAnswersToDeal(tx *gorm.DB, conv, deal int64) error {
	if err := tx.Exec("UPDATE touches SET deal_id = ? WHERE conversation_id = ? AND direction = ? AND deal_id IS NULL AND not_a_sale = ''",
		deal, conv, Outbound).Error; err != nil {
		return fmt.Errorf("crm: answers to the conversation's deal: %w", err)
	}
	return nil
}

// InsertMergeHints records that a message's handles belong to several
// contacts (ContactID, OtherID, TouchID, CreatedAt).
func InsertMergeHints(tx *gorm.DB, hs []MergeHint) error {
	if len(hs) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(hs))
	for _, h := range hs {
		args = append(args, h.ContactID, h.OtherID, h.TouchID, h.CreatedAt)
	}
	if err := bulk(tx, "INSERT INTO merge_hints (contact_id, other_id, touch_id, created_at) VALUES ", "(?, ?, ?, ?)", "", 4, args, nil); err != nil {
		return fmt.Errorf("crm: merge hints: %w", err)
	}
	return nil
}
