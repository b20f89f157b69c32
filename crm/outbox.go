package crm

import (
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// Delivery statuses of an outbound touch.
const (
	Queued    = "queued"
	Sending   = "sending" // an outbox job claimed by a sender (never a touch's status)
	Sent      = "sent"
	Delivered = "delivered"
	Failed    = "failed"
)

// OutboxJob is a reply waiting in the outbox: written with its outbound
// touch in one transaction, sent by the dispatcher.
type OutboxJob struct {
	ID            int64
	TouchID       int64
	AccountID     int64
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LockedUntil   *time.Time
	LastError     string
	MessageID     string
	Payload       json.RawMessage `gorm:"type:text;serializer:json"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TableName is the outbox table.
func (OutboxJob) TableName() string { return "outbox" }

// Attachment is a stored file of a touch; its bytes are in the blob store
// under SHA256 (empty: it was too large to keep).
type Attachment struct {
	ID          int64     `json:"id"`
	TouchID     int64     `json:"touch_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"-" gorm:"column:sha256"`
	Stored      bool      `json:"stored" gorm:"-"`
	ContentID   string    `json:"content_id,omitempty"`
	Inline      bool      `json:"inline"`
	CreatedAt   time.Time `json:"created_at"`
}

// AfterFind fills Stored.
func (at *Attachment) AfterFind(*gorm.DB) error {
	at.Stored = at.SHA256 != ""
	return nil
}

// TouchAttachments lists the files of the touches, in id order.
func TouchAttachments(tx *gorm.DB, touchIDs ...int64) ([]Attachment, error) {
	out := []Attachment{}
	if len(touchIDs) == 0 {
		return out, nil
	}
	err := tx.Where("touch_id IN ?", touchIDs).Order("id").Find(&out).Error
	return out, err
}
