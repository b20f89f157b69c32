package whatsapp_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/glebarez/go-sqlite" // the driver crm.Open uses, registered as "sqlite"
	"go.mau.fi/whatsmeow/types"

	"github.com/switchboard/switchboard/channels/whatsapp"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

// TestStoreUpgradesBesideOurSchema: whatsmeow's session tables are
// created in the application's database (SQLite with foreign keys on, or
// PostgreSQL), beside our tables, and a second start upgrades nothing and
// finds the linked device again.
func TestStoreUpgradesBesideOurSchema(t *testing.T) {
	ctx := context.Background()
	db := crmtest.Open(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	st := whatsapp.NewStore(sqlDB, crm.Dialect(db))
	if err := st.Upgrade(ctx); err != nil {
		t.Fatalf("Upgrade on %s: %v", crm.Dialect(db), err)
	}
	var n int
	if err := sqlDB.QueryRow("SELECT COUNT(*) FROM whatsmeow_device").Scan(&n); err != nil || n != 0 {
		t.Fatalf("whatsmeow_device: %d rows, %v", n, err)
	}
	if err := sqlDB.QueryRow("SELECT COUNT(*) FROM contacts").Scan(&n); err != nil {
		t.Fatalf("our schema is gone: %v", err)
	}
	jid := types.NewJID("79131234567", types.DefaultUserServer)
	jid.Device = 12
	if err := st.SetDevice(ctx, 7, jid); err != nil {
		t.Fatal(err)
	}

	// A restart: a new store on the same database.
	again := whatsapp.NewStore(sqlDB, crm.Dialect(db))
	if err := again.Upgrade(ctx); err != nil {
		t.Fatalf("second Upgrade: %v", err)
	}
	cli, err := again.Open(ctx, 7, nil)
	if err != nil {
		t.Fatalf("Open after restart: %v", err)
	}
	// The device row is whatsmeow's, written on a real pairing; without it
	// the account gets a fresh device to link, never an error.
	if cli.IsLoggedIn() {
		t.Error("a device never paired is logged in")
	}
	if err := again.SetDevice(ctx, 7, types.NewJID("79131234568", types.DefaultUserServer)); err != nil {
		t.Fatalf("re-pairing the account: %v", err)
	}
}

// TestStoreRefusesSQLiteWithoutForeignKeys: whatsmeow's own guard, which
// crm.Open's DSN satisfies.
func TestStoreRefusesSQLiteWithoutForeignKeys(t *testing.T) {
	sqlDB, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "nofk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	err = whatsapp.NewStore(sqlDB, "sqlite").Upgrade(context.Background())
	if err == nil || !strings.Contains(err.Error(), "foreign keys are not enabled") {
		t.Fatalf("Upgrade = %v, want foreign keys are not enabled", err)
	}
}
