// Package crmtest opens a fresh, migrated database for a test: a SQLite
// file in t.TempDir(), or, when SWITCHBOARD_TEST_DATABASE_URL names a
// PostgreSQL server, a new database on it that is dropped afterwards.
// Under CI=true with SWITCHBOARD_TEST_POSTGRES=1 a missing PostgreSQL fails
// the test instead of falling back.
package crmtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// EnvURL names the PostgreSQL server the suite runs against.
const EnvURL = "SWITCHBOARD_TEST_DATABASE_URL"

// Open returns a fresh migrated database for t.
func Open(t testing.TB) *gorm.DB {
	t.Helper()
	db, _ := OpenDSN(t)
	return db
}

// OpenDSN is Open that also returns the DATABASE_URL of the new database
// ("" for SQLite) and, for SQLite, leaves the file in t.TempDir().
func OpenDSN(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		db, err := crm.Open("", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		migrate(t, db)
		t.Cleanup(func() {
			if s, err := db.DB(); err == nil {
				s.Close()
			}
		})
		return db, ""
	}
	dsn := EmptyPostgres(t)
	db, err := crm.Open(dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	migrate(t, db)
	t.Cleanup(func() { // before EmptyPostgres drops the database
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	return db, dsn
}

// EmptyPostgres creates a new, empty (not migrated) database on the
// server SWITCHBOARD_TEST_DATABASE_URL names, drops it when t ends and
// returns its DSN. The test is skipped when no server is named.
func EmptyPostgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skipf("%s names no PostgreSQL server", EnvURL)
	}
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{})
	if err != nil {
		t.Fatalf("crmtest: %s=%s: %v", EnvURL, base, err)
	}
	adminSQL, _ := admin.DB()
	defer adminSQL.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "sbtest_" + hex.EncodeToString(b)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("crmtest: create database: %v", err)
	}
	t.Cleanup(func() {
		a, err := gorm.Open(postgres.Open(base), &gorm.Config{})
		if err != nil {
			return
		}
		a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		if s, err := a.DB(); err == nil {
			s.Close()
		}
	})
	return withDB(base, name)
}

func migrate(t testing.TB, db *gorm.DB) {
	t.Helper()
	if err := crm.Migrate(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
}

var dbnameRE = regexp.MustCompile(`dbname=\S+`)

// withDB points a PostgreSQL DSN (URL or key=value) at another database.
func withDB(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	if dbnameRE.MatchString(dsn) {
		return dbnameRE.ReplaceAllString(dsn, "dbname="+name)
	}
	return dsn + " dbname=" + name
}

// Postgres reports whether the suite runs against PostgreSQL.
func Postgres() bool { return os.Getenv(EnvURL) != "" }
