package migrations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/migrations"
)

func TestEveryDialectHasTheSameVersions(t *testing.T) {
	lite, err := migrations.Steps(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations.Steps(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d steps, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("step %d: sqlite %s, postgres %s", i, lite[i].Name, pg[i].Name)
		}
	}
}

func TestApplyIsIdempotentAndRefusesANewerDatabase(t *testing.T) {
	db := crmtest.Open(t) // already migrated
	sqlDB, _ := db.DB()
	ctx := context.Background()
	dialect := crm.Dialect(db)
	steps, err := migrations.Apply(ctx, sqlDB, dialect)
	if err != nil || len(steps) != 0 {
		t.Fatalf("second Apply: %d steps, %v; want none", len(steps), err)
	}
	cur, err := migrations.Current(ctx, sqlDB)
	if err != nil || cur != migrations.Latest(dialect) {
		t.Fatalf("current = %d, %v; want %d", cur, err, migrations.Latest(dialect))
	}
	if err := db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", 9999, "9999_future", "2030-01-01T00:00:00Z").Error; err != nil {
		t.Fatal(err)
	}
	_, err = migrations.Apply(ctx, sqlDB, dialect)
	if !errors.Is(err, migrations.ErrTooNew) {
		t.Fatalf("Apply on a newer database: %v, want ErrTooNew", err)
	}
}
