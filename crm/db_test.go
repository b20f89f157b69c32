package crm_test

import (
	"testing"

	"github.com/switchboard/switchboard/crm"
)

// A new SQLite database is opened in WAL mode with foreign keys on,
// 8 KiB pages and synchronous=FULL (2: an acknowledged commit survives a
// power cut, issue 14 item 17).
func TestSQLiteOpensWithItsSettings(t *testing.T) {
	dir := t.TempDir()
	db, err := crm.Open("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("CREATE TABLE probe (id INTEGER PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	sqlDB.Close()
	if db, err = crm.Open("", dir); err != nil { // as the file now is
		t.Fatal(err)
	}
	sqlDB, _ = db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	for pragma, want := range map[string]string{"page_size": "8192", "journal_mode": "wal", "foreign_keys": "1", "synchronous": "2"} {
		var got string
		if err := db.Raw("PRAGMA " + pragma).Row().Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}
