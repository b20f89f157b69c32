package crm

import (
	"time"

	"gorm.io/gorm"
)

// Backup is a finished backup archive (switchboard backup): monitoring
// reads the newest finished_at to tell how old the last backup is.
type Backup struct {
	ID         int64     `json:"id"`
	FinishedAt time.Time `json:"finished_at"`
	Archive    string    `json:"archive"`
	Bytes      int64     `json:"bytes"`
}

// RecordBackup notes a finished backup.
func RecordBackup(tx *gorm.DB, archive string, bytes int64, finished time.Time) (Backup, error) {
	b := Backup{FinishedAt: finished.UTC(), Archive: archive, Bytes: bytes}
	if err := tx.Create(&b).Error; err != nil {
		return b, err
	}
	return b, nil
}
