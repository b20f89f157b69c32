package crm

import (
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// UnreadableMail is a message whose sender could not be read at all (no
// usable From, Sender, Reply-To or Return-Path). It is no touch: it has no
// contact, conversation or deal, and cannot be answered. The owner sees it
// in the "Unreadable mail" list with its original bytes.
type UnreadableMail struct {
	ID         int64  `json:"id"`
	AccountID  int64  `json:"account_id"`
	ExternalID string `json:"external_id"`
	Folder     string `json:"folder"`
	Subject    string `json:"subject"`
	// Problem is the parse problem's code (email: header, no_sender, …):
	// the UI says it in the user's language; Detail says it in English.
	Problem    string    `json:"problem"`
	Detail     string    `json:"detail"`
	RawSHA256  string    `json:"-" gorm:"column:raw_sha256"`
	RawSize    int64     `json:"raw_size"`
	ReceivedAt time.Time `json:"received_at"`
	CreatedAt  time.Time `json:"created_at"`
	// AccountName is the mailbox it arrived at (read with the list).
	AccountName string `json:"account_name" gorm:"->;-:migration"`
}

// TableName is the table of unreadable mail.
func (UnreadableMail) TableName() string { return "unreadable_mail" }

// KeepUnreadable stores m unless the account already holds a message with
// its external id (a re-import): it reports whether m was new.
func KeepUnreadable(tx *gorm.DB, m *UnreadableMail) (bool, error) {
	m.Subject, m.Detail = Clip(m.Subject, 300), Clip(m.Detail, 1000)
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Omit("AccountName").Create(m)
	if res.Error != nil {
		return false, fmt.Errorf("crm: unreadable mail: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}

// UnreadableList lists unreadable mail, newest first, with the names of
// the mailboxes it arrived at.
func UnreadableList(tx *gorm.DB, limit int) ([]UnreadableMail, error) {
	out := []UnreadableMail{}
	err := tx.Table("unreadable_mail AS u").Select("u.*, a.name AS account_name").
		Joins("JOIN accounts a ON a.id = u.account_id").
		Order("u.received_at DESC, u.id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("crm: unreadable mail: %w", err)
	}
	return out, nil
}

// GetUnreadable returns one unreadable message, or ErrNotFound.
func GetUnreadable(tx *gorm.DB, id int64) (UnreadableMail, error) {
	var m UnreadableMail
	if err := tx.Table("unreadable_mail").Take(&m, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return m, NotFound("unreadable mail", id)
		}
		return m, fmt.Errorf("crm: unreadable mail %d: %w", id, err)
	}
	return m, nil
}
