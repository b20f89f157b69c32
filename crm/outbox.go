package crm

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Delivery statuses of an outbound touch.
const (
	Queued    = "queued"
	Sending   = "sending" // an outbox job claimed by a sender (never a touch's status)
	Sent      = "sent"
	Delivered = "delivered"
	Read      = "read" // the client opened it (a chat's read receipt)
	Failed    = "failed"
)

// RecordReceipt moves the outbound touch of account whose channel id is
// externalID to status (Delivered or Read), never back: a late delivery
// receipt leaves a read touch read, and a failed or queued touch is left
// alone. It returns the touch and whether it changed; no such touch is
// not an error (a receipt of a message sent outside Switchboard).
func RecordReceipt(tx *gorm.DB, account int64, externalID, status string) (Touch, bool, error) {
	from := []string{Sent}
	switch status {
	case Delivered:
	case Read:
		from = append(from, Delivered)
	default:
		return Touch{}, false, Invalid("receipt status %q is neither %q nor %q", status, Delivered, Read)
	}
	var t Touch
	err := tx.Where("account_id = ? AND external_id = ? AND direction = ?", account, externalID, Outbound).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Touch{}, false, nil
	}
	if err != nil {
		return Touch{}, false, fmt.Errorf("crm: receipt of %q: %w", externalID, err)
	}
	res := tx.Model(&Touch{}).Where("id = ? AND delivery_status IN ?", t.ID, from).Update("delivery_status", status)
	if res.Error != nil {
		return Touch{}, false, fmt.Errorf("crm: receipt of touch %d: %w", t.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return t, false, nil
	}
	t.DeliveryStatus = status
	return t, true, nil
}

// OutboxJob is a reply waiting in the outbox: written with its outbound
// touch in one transaction, sent by the dispatcher.
type OutboxJob struct {
	ID        int64
	TouchID   int64
	AccountID int64
	Status    string
	Attempts  int
	// Claims counts how often a sender took the job; claims beyond
	// Attempts are sends interrupted before their result was recorded.
	Claims        int
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

// dueJobs is the condition of a job to send now: queued and due, or left
// "sending" by a sender that died (its lease ran out).
const dueJobs = "((status = ? AND next_attempt_at <= ?) OR (status = ? AND locked_until < ?))"

// DueOutboxAccounts lists the accounts with jobs to send now.
func DueOutboxAccounts(tx *gorm.DB, now time.Time) ([]int64, error) {
	var accs []int64
	// A disabled account sends nothing: its jobs wait until it is enabled.
	err := tx.Model(&OutboxJob{}).Distinct("account_id").Where(dueJobs, Queued, now, Sending, now).
		Where("account_id IN (SELECT id FROM accounts WHERE enabled = ?)", true).Pluck("account_id", &accs).Error
	if err != nil {
		return nil, fmt.Errorf("crm: due outbox accounts: %w", err)
	}
	return accs, nil
}

// DueOutboxJobs lists an account's jobs to send now, oldest first.
func DueOutboxJobs(tx *gorm.DB, account int64, now time.Time, limit int) ([]OutboxJob, error) {
	var jobs []OutboxJob
	err := tx.Where("account_id = ? AND "+dueJobs, account, Queued, now, Sending, now).Order("id").Limit(limit).Find(&jobs).Error
	if err != nil {
		return nil, fmt.Errorf("crm: due outbox jobs of account %d: %w", account, err)
	}
	return jobs, nil
}

// ClaimOutboxJob takes a due job for a sender until now+lease; false when
// another sender took it first.
func ClaimOutboxJob(tx *gorm.DB, id int64, now time.Time, lease time.Duration) (bool, error) {
	res := tx.Model(&OutboxJob{}).Where("id = ? AND "+dueJobs, id, Queued, now, Sending, now).
		Updates(map[string]any{"status": Sending, "locked_until": now.Add(lease), "updated_at": now, "claims": gorm.Expr("claims + 1")})
	if res.Error != nil {
		return false, fmt.Errorf("crm: claim outbox job %d: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// MaxInterrupted is how many sends of a job may be interrupted before
// their result was recorded (a sender that died, a record that failed)
// before the job fails rather than risk sending it again.
const MaxInterrupted = 3

// Interrupted is how many sends of the job were interrupted so far,
// counting the claim it is under.
func (j OutboxJob) Interrupted() int { return j.Claims - j.Attempts - 1 }

// SendOutcome is what became of one attempt to send a job.
type SendOutcome struct {
	Status   string // Sent, Queued (to retry) or Failed
	Attempts int
	// Claims counts how often a sender took the job; claims beyond
	// Attempts are sends interrupted before their result was recorded.
	Claims        int
	NextAttemptAt time.Time       // when Queued
	LastError     string          // "" when sent
	Payload       json.RawMessage // the job's new payload (parts already delivered), if it changed
	NativeID      string          // the channel's id of what was sent, if it told
}

// RecordSend stores an attempt's outcome on the job and, when it is final
// (sent or failed), on its touch; it returns the touch.
func RecordSend(tx *gorm.DB, j OutboxJob, o SendOutcome, now time.Time) (Touch, error) {
	up := map[string]any{"status": o.Status, "attempts": o.Attempts, "locked_until": nil, "updated_at": now, "last_error": o.LastError}
	if o.Status == Queued {
		up["next_attempt_at"] = o.NextAttemptAt
	}
	if o.Payload != nil {
		up["payload"] = o.Payload
	}
	if err := tx.Model(&OutboxJob{ID: j.ID}).Updates(up).Error; err != nil {
		return Touch{}, fmt.Errorf("crm: outbox job %d: %w", j.ID, err)
	}
	if o.Status != Queued {
		ut := map[string]any{"delivery_status": o.Status}
		if o.NativeID != "" {
			// The channel's id names the touch for its answers, unless
			// another touch of the account has it already (a channel that
			// reuses ids): then the send is recorded without it, for a
			// collision must never undo the record of a message that went
			// out (the job would be sent again).
			var taken int64
			if err := tx.Model(&Touch{}).Where("account_id = ? AND external_id = ? AND id <> ?", j.AccountID, o.NativeID, j.TouchID).Count(&taken).Error; err != nil {
				return Touch{}, fmt.Errorf("crm: touch %d: %w", j.TouchID, err)
			}
			if taken == 0 {
				ut["external_id"] = o.NativeID
			}
		}
		if err := tx.Model(&Touch{ID: j.TouchID}).Updates(ut).Error; err != nil {
			return Touch{}, fmt.Errorf("crm: touch %d: %w", j.TouchID, err)
		}
	}
	return GetTouch(tx, j.TouchID)
}

// GetAttachment is one stored file, or ErrNotFound.
func GetAttachment(tx *gorm.DB, id int64) (Attachment, error) {
	var at Attachment
	err := tx.Take(&at, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return at, NotFound("attachment", id)
	}
	return at, err
}

// ParseErrorTouches lists the touches whose message could not be parsed,
// newest first.
func ParseErrorTouches(tx *gorm.DB, limit int) ([]Touch, error) {
	out := []Touch{}
	err := tx.Where("parse_error <> ''").Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// ReferencedBlobs reports which of the blob keys a stored file still uses.
func ReferencedBlobs(tx *gorm.DB, keys []string) (map[string]bool, error) {
	var used, raw []string
	if err := tx.Model(&Attachment{}).Distinct("sha256").Where("sha256 IN ?", keys).Pluck("sha256", &used).Error; err != nil {
		return nil, fmt.Errorf("crm: referenced blobs: %w", err)
	}
	// The original bytes of unreadable mail (KeepUnreadable).
	if err := tx.Model(&UnreadableMail{}).Distinct("raw_sha256").Where("raw_sha256 IN ?", keys).Pluck("raw_sha256", &raw).Error; err != nil {
		return nil, fmt.Errorf("crm: referenced blobs: %w", err)
	}
	used = append(used, raw...)
	out := make(map[string]bool, len(used))
	for _, k := range used {
		out[k] = true
	}
	return out, nil
}

// SendState is where a reply stands in the outbox, for the timeline.
type SendState struct {
	TouchID       int64      `json:"touch_id"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error,omitempty"`
	Failure       string     `json:"failure,omitempty"` // what LastError means (FailureKind)
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
}

// SendStates are the outbox states of the outbound touches among ts that
// have a job not plainly sent (queued, sending, failed, or sent after
// failed attempts).
func SendStates(tx *gorm.DB, ts []Touch) ([]SendState, error) {
	out := []SendState{}
	var ids []int64
	for _, t := range ts {
		if t.Direction == Outbound && t.AuthorID != nil && t.Kind != "call" {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var jobs []OutboxJob
	if err := tx.Where("touch_id IN ? AND (status <> ? OR last_error <> '')", ids, Sent).Find(&jobs).Error; err != nil {
		return nil, fmt.Errorf("crm: send states: %w", err)
	}
	for _, j := range jobs {
		s := SendState{TouchID: j.TouchID, Status: j.Status, Attempts: j.Attempts, LastError: j.LastError, Failure: FailureKind(j.LastError)}
		if j.Status == Queued && j.Attempts > 0 {
			at := j.NextAttemptAt
			s.NextAttemptAt = &at
		}
		if s.Status == Sending {
			s.Status = Queued // as the touch shows it
		}
		out = append(out, s)
	}
	return out, nil
}
