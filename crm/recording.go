package crm

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Recording is the background fetch of a call's recording from the PBX into
// the blob store: pending until stored as an attachment of the call touch,
// or failed for good (the link is kept and the reason shown).
type Recording struct {
	ID        int64     `json:"id"`
	TouchID   int64     `json:"touch_id"`
	AccountID int64     `json:"account_id"`
	URL       string    `json:"url"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	Error     string    `json:"error"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Recording statuses.
const (
	RecordingPending = "pending"
	RecordingStored  = "stored"
	RecordingFailed  = "failed"
)

// Meta keys of a call touch that the recording fetch keeps up to date.
const (
	MetaRecordingURL    = "call_recording_url"
	MetaRecordingStatus = "call_recording_status"
	MetaRecordingError  = "call_recording_error"
)

// EnqueueRecordings adds fetch jobs; a touch that has one keeps it.
func EnqueueRecordings(tx *gorm.DB, rs []Recording) error {
	if len(rs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for i := range rs {
		rs[i].Status, rs[i].NextAt, rs[i].CreatedAt, rs[i].UpdatedAt = RecordingPending, now, now, now
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rs).Error; err != nil {
		return fmt.Errorf("crm: enqueue recordings: %w", err)
	}
	return nil
}

// AddRecording adds a recording link that arrived after its call (a
// provider that reports it apart): the call touch's meta gets the link and
// a fetch job is queued. A touch that already has a link keeps it; reports
// whether anything changed.
func AddRecording(tx *gorm.DB, touchID int64, url string) (bool, error) {
	t, err := GetTouch(tx, touchID)
	if err != nil {
		return false, err
	}
	meta := map[string]string{}
	if len(t.Meta) > 0 {
		if err := json.Unmarshal(t.Meta, &meta); err != nil {
			return false, fmt.Errorf("crm: meta of touch %d: %w", touchID, err)
		}
	}
	if t.Kind != "call" || meta[MetaRecordingURL] != "" {
		return false, nil
	}
	meta[MetaRecordingURL], meta[MetaRecordingStatus] = url, RecordingPending
	if err := setMeta(tx, touchID, meta); err != nil {
		return false, err
	}
	return true, EnqueueRecordings(tx, []Recording{{TouchID: touchID, AccountID: t.AccountID, URL: url}})
}

// DueRecordings lists pending fetches due at now, oldest first.
func DueRecordings(tx *gorm.DB, now time.Time, limit int) ([]Recording, error) {
	var out []Recording
	err := tx.Where("status = ? AND next_at <= ?", RecordingPending, now).Order("next_at, id").Limit(limit).Find(&out).Error
	return out, err
}

// NextRecordingAt is when the next pending fetch is due (zero: none).
func NextRecordingAt(tx *gorm.DB) (time.Time, error) {
	var r Recording
	err := tx.Where("status = ?", RecordingPending).Order("next_at").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Time{}, nil
	}
	return r.NextAt, err
}

// RecordingFetched stores a fetched recording as the call touch's file and
// closes its job.
func RecordingFetched(tx *gorm.DB, r Recording, file Attachment) error {
	file.TouchID = r.TouchID
	if err := tx.Create(&file).Error; err != nil {
		return fmt.Errorf("crm: store recording of touch %d: %w", r.TouchID, err)
	}
	return finishRecording(tx, r, RecordingStored, "", time.Time{})
}

// RecordingAttempt records a failed fetch: pending again at next, or failed
// for good when next is zero. The call keeps its link and shows why.
func RecordingAttempt(tx *gorm.DB, r Recording, reason string, next time.Time) error {
	status := RecordingPending
	if next.IsZero() {
		status = RecordingFailed
	}
	return finishRecording(tx, r, status, reason, next)
}

func finishRecording(tx *gorm.DB, r Recording, status, reason string, next time.Time) error {
	now := time.Now().UTC()
	up := map[string]any{"status": status, "attempts": r.Attempts + 1, "error": Clip(reason, 500), "updated_at": now}
	if !next.IsZero() {
		up["next_at"] = next.UTC()
	}
	if err := tx.Model(&Recording{}).Where("id = ?", r.ID).Updates(up).Error; err != nil {
		return fmt.Errorf("crm: recording job %d: %w", r.ID, err)
	}
	t, err := GetTouch(tx, r.TouchID)
	if err != nil {
		return err
	}
	meta := map[string]string{}
	json.Unmarshal(t.Meta, &meta)
	meta[MetaRecordingStatus] = status
	if reason != "" {
		meta[MetaRecordingError] = Clip(reason, 500)
	} else {
		delete(meta, MetaRecordingError)
	}
	return setMeta(tx, r.TouchID, meta)
}

// setMeta replaces a touch's meta (as text: the column is not serialized
// through the model here).
func setMeta(tx *gorm.DB, touchID int64, meta map[string]string) error {
	if err := tx.Exec("UPDATE touches SET meta = ? WHERE id = ?", string(MetaJSON(meta)), touchID).Error; err != nil {
		return fmt.Errorf("crm: meta of touch %d: %w", touchID, err)
	}
	return nil
}

// ClaimRecording takes a due fetch for lease: another replica (or a later
// pass) skips it until the lease runs out; a fetcher that died is retried
// then. Reports whether the job is ours.
func ClaimRecording(tx *gorm.DB, r *Recording, now time.Time, lease time.Duration) (bool, error) {
	until := now.Add(lease).UTC()
	res := tx.Model(&Recording{}).Where("id = ? AND status = ? AND next_at <= ?", r.ID, RecordingPending, now.UTC()).Update("next_at", until)
	if res.Error != nil {
		return false, fmt.Errorf("crm: claim recording %d: %w", r.ID, res.Error)
	}
	r.NextAt = until
	return res.RowsAffected == 1, nil
}
