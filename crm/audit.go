package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// AuditEntry is one row of the append-only audit trail. Each row's Hash
// covers its fields and the previous row's hash, so editing or deleting a
// row breaks the chain from that row on.
type AuditEntry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    *int64          `json:"actor_id"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   int64           `json:"object_id"`
	Data       json.RawMessage `json:"data" gorm:"type:text;serializer:json"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// TableName is the audit table.
func (AuditEntry) TableName() string { return "audit_log" }

// Decode unmarshals the entry's data.
func (e AuditEntry) Decode(v any) error { return json.Unmarshal(e.Data, v) }

// auditTimeKey carries the time audit entries are dated at (WithAuditTime).
type auditTimeKey struct{}

// WithAuditTime dates the audit entries written under ctx at at instead of
// now: the demo replays 90 days of a team's work, and its trail reads as
// those days. Only code sets it; no request can.
func WithAuditTime(ctx context.Context, at time.Time) context.Context {
	return context.WithValue(ctx, auditTimeKey{}, at)
}

// auditNow is when an entry written through tx is dated.
func auditNow(tx *gorm.DB) time.Time {
	if tx.Statement != nil && tx.Statement.Context != nil {
		if at, ok := tx.Statement.Context.Value(auditTimeKey{}).(time.Time); ok {
			return at.UTC().Truncate(time.Microsecond)
		}
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// auditLockKey serializes writers of the chain on PostgreSQL.
const auditLockKey = 0x5b0a_0001

// Audit appends an entry. It must run inside a transaction: the previous
// hash is read and the row written under the same lock.
func Audit(tx *gorm.DB, actor *int64, action, objectType string, objectID int64, data any) (AuditEntry, error) {
	var c AuditChain
	return c.Append(tx, actor, action, objectType, objectID, data)
}

// AuditChain appends several entries in one transaction, reading the last
// hash (and taking the lock) only once. Use a new chain per transaction.
type AuditChain struct {
	prev   string
	loaded bool
}

// AuditRecord is an entry to append with AppendAll.
type AuditRecord struct {
	Actor      *int64
	Action     string
	ObjectType string
	ObjectID   int64
	Data       any
}

// AppendAll adds records in order with one multi-row insert (Bulk): the
// hashes are chained in memory, so a batch costs one round trip, not one
// per row.
func (c *AuditChain) AppendAll(tx *gorm.DB, recs []AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	if err := c.load(tx); err != nil {
		return err
	}
	at := auditNow(tx)
	args := make([]any, 0, 8*len(recs))
	prev := c.prev
	for _, r := range recs {
		raw, err := auditData(r.Data)
		if err != nil {
			return fmt.Errorf("crm: audit %s: %w", r.Action, err)
		}
		e := AuditEntry{At: at, ActorID: r.Actor, Action: r.Action, ObjectType: r.ObjectType, ObjectID: r.ObjectID, Data: raw, PrevHash: prev}
		e.Hash = e.computeHash()
		prev = e.Hash
		args = append(args, e.At, e.ActorID, e.Action, e.ObjectType, e.ObjectID, string(e.Data), e.PrevHash, e.Hash)
	}
	if err := bulk(tx, "INSERT INTO audit_log (at, actor_id, action, object_type, object_id, data, prev_hash, hash) VALUES ",
		"(?, ?, ?, ?, ?, ?, ?, ?)", "", 8, args, nil); err != nil {
		return fmt.Errorf("crm: audit: %w", err)
	}
	c.prev = prev
	return nil
}

// auditData marshals an entry's data; no data is {} (a JSON null would be
// stored as SQL NULL).
func auditData(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil || string(raw) == "null" {
		return json.RawMessage("{}"), err
	}
	return raw, nil
}

// load takes the chain's lock (PostgreSQL) and reads the last hash, once.
func (c *AuditChain) load(tx *gorm.DB) error {
	if c.loaded {
		return nil
	}
	if Dialect(tx) == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", auditLockKey).Error; err != nil {
			return fmt.Errorf("crm: audit lock: %w", err)
		}
	}
	if err := tx.Model(&AuditEntry{}).Select("hash").Order("id DESC").Limit(1).Scan(&c.prev).Error; err != nil {
		return fmt.Errorf("crm: audit: last hash: %w", err)
	}
	c.loaded = true
	return nil
}

// Append adds an entry to the chain in tx.
func (c *AuditChain) Append(tx *gorm.DB, actor *int64, action, objectType string, objectID int64, data any) (AuditEntry, error) {
	raw, err := auditData(data)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("crm: audit %s: %w", action, err)
	}
	if err := c.load(tx); err != nil {
		return AuditEntry{}, err
	}
	e := AuditEntry{
		At: auditNow(tx), ActorID: actor, Action: action,
		ObjectType: objectType, ObjectID: objectID, Data: raw, PrevHash: c.prev,
	}
	e.Hash = e.computeHash()
	if err := tx.Create(&e).Error; err != nil {
		return e, fmt.Errorf("crm: audit %s: %w", action, err)
	}
	c.prev = e.Hash
	return e, nil
}

func (e AuditEntry) computeHash() string {
	h := sha256.New()
	actor := ""
	if e.ActorID != nil {
		actor = strconv.FormatInt(*e.ActorID, 10)
	}
	for _, f := range []string{e.PrevHash, e.At.UTC().Format(time.RFC3339Nano), actor, e.Action, e.ObjectType, strconv.FormatInt(e.ObjectID, 10), string(e.Data)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditBroken describes the first row where the chain does not hold.
type AuditBroken struct {
	ID     int64
	Reason string
}

func (b *AuditBroken) Error() string {
	return fmt.Sprintf("audit row %d: %s", b.ID, b.Reason)
}

// VerifyAudit walks the whole chain in id order. It returns the number of
// rows checked and, when the chain is broken, an *AuditBroken naming the
// first bad row.
func VerifyAudit(tx *gorm.DB) (int, error) {
	var rows []AuditEntry
	prev, n := "", 0
	err := tx.Model(&AuditEntry{}).Order("id").FindInBatches(&rows, 1000, func(_ *gorm.DB, _ int) error {
		for _, e := range rows {
			n++
			if e.PrevHash != prev {
				return &AuditBroken{e.ID, "previous hash does not match the row before it (a row was removed or reordered)"}
			}
			if e.computeHash() != e.Hash {
				return &AuditBroken{e.ID, "contents do not match its hash (the row was edited)"}
			}
			prev = e.Hash
		}
		return nil
	}).Error
	return n, err
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	ActorID    int64 // who did it; 0: anyone
	Action     string
	ObjectType string
	ObjectID   int64
	BeforeID   int64
	// From and To bound when (zero: open), [From, To).
	From, To time.Time
	Limit    int
}

// ListAudit returns entries matching f.
func ListAudit(tx *gorm.DB, f AuditFilter) ([]AuditEntry, error) {
	db := tx.Model(&AuditEntry{})
	if f.ActorID != 0 {
		db = db.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		db = db.Where("action = ?", f.Action)
	}
	if f.ObjectType != "" {
		db = db.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != 0 {
		db = db.Where("object_id = ?", f.ObjectID)
	}
	if f.BeforeID > 0 {
		db = db.Where("id < ?", f.BeforeID)
	}
	if !f.From.IsZero() {
		db = db.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		db = db.Where("at < ?", f.To.UTC())
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var out []AuditEntry
	return out, db.Order("id DESC").Limit(f.Limit).Find(&out).Error
}
