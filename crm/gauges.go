package crm

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Backlog is the outbox of one channel: replies not yet sent or given up
// (queued or being sent), and when the oldest of them was queued.
type Backlog struct {
	Channel string
	Jobs    int
	Oldest  time.Time // zero when Jobs is 0
}

// OutboxBacklog is the backlog of every channel that has an account,
// those with nothing waiting included (for the metrics at scrape time).
func OutboxBacklog(tx *gorm.DB) ([]Backlog, error) {
	var chans []string
	if err := tx.Model(&Account{}).Distinct("channel").Order("channel").Pluck("channel", &chans).Error; err != nil {
		return nil, fmt.Errorf("crm: outbox backlog: %w", err)
	}
	var counts []struct {
		Channel string
		N       int
	}
	if err := tx.Raw(`SELECT a.channel AS channel, COUNT(*) AS n FROM outbox o JOIN accounts a ON a.id = o.account_id
		WHERE o.status IN ? GROUP BY a.channel`, []string{Queued, Sending}).Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("crm: outbox backlog: %w", err)
	}
	// The oldest job per account is its lowest id; its created_at is read
	// as a column (not through MIN), so both drivers return a time.
	var oldest []struct {
		Channel   string
		CreatedAt time.Time
	}
	if err := tx.Raw(`SELECT a.channel AS channel, o.created_at AS created_at FROM outbox o JOIN accounts a ON a.id = o.account_id
		WHERE o.id IN (SELECT MIN(id) FROM outbox WHERE status IN ? GROUP BY account_id)`, []string{Queued, Sending}).Scan(&oldest).Error; err != nil {
		return nil, fmt.Errorf("crm: outbox backlog: %w", err)
	}
	out := make([]Backlog, len(chans))
	at := map[string]int{}
	for i, c := range chans {
		out[i].Channel = c
		at[c] = i
	}
	for _, c := range counts {
		if i, ok := at[c.Channel]; ok {
			out[i].Jobs = c.N
		}
	}
	for _, o := range oldest {
		if i, ok := at[o.Channel]; ok && (out[i].Oldest.IsZero() || o.CreatedAt.Before(out[i].Oldest)) {
			out[i].Oldest = o.CreatedAt
		}
	}
	return out, nil
}

// LastBackup is when the newest backup recorded in the backups table
// finished; ok is false when there is none, or no backups table yet (a
// database migrated before backups were recorded).
func LastBackup(tx *gorm.DB) (at time.Time, ok bool, err error) {
	if !tx.Migrator().HasTable("backups") {
		return time.Time{}, false, nil
	}
	// ORDER BY … LIMIT 1 rather than MAX: SQLite returns an aggregate of a
	// DATETIME column as text, the column itself as a time.
	var rows []time.Time
	if err := tx.Table("backups").Order("finished_at DESC").Limit(1).Pluck("finished_at", &rows).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("crm: last backup: %w", err)
	}
	if len(rows) == 0 {
		return time.Time{}, false, nil
	}
	return rows[0], true, nil
}
