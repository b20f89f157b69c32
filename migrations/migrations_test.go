package migrations_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver behind crm.Open on PostgreSQL

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

// Replicas starting together on an empty PostgreSQL database: one
// migrates, the others wait for it and find nothing left to do.
func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	dsn := crmtest.EmptyPostgres(t) // skips on SQLite: one process migrates there
	ctx := context.Background()
	const n = 4
	results := make(chan int, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			steps, err := migrations.Apply(ctx, db, migrations.Postgres)
			if err != nil {
				errs <- err
				return
			}
			results <- len(steps)
		}()
	}
	wg.Wait()
	close(errs)
	close(results)
	for err := range errs {
		t.Errorf("a replica's migration failed: %v", err)
	}
	applied := 0
	for r := range results {
		applied += r
	}
	if want := len(must(migrations.Steps(migrations.Postgres))); applied != want {
		t.Errorf("%d steps applied across the replicas, want each of the %d once", applied, want)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
