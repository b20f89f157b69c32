package crm_test

import (
	"database/sql"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/migrations"
)

// Bulk stores what a row-by-row insert would, in order, whichever way it
// goes to the database (short rows as JSON on SQLite, long ones as VALUES).
func TestBulkStoresRowsInOrderWithTheirTypes(t *testing.T) {
	db := crmtest.Open(t)
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.UTC)
	long := strings.Repeat("ж", 300)
	var args []any
	names := []string{"Анна <a@b>", "", long, `quote " and \ slash`, "Ivan"}
	for i, n := range names {
		args = append(args, n, strings.ToLower(n), at.Add(time.Duration(i)*time.Hour), at)
	}
	for _, rows := range [][]any{args[:8], args} { // narrow (JSON on SQLite), then with a long value
		var ids []int64
		if err := db.Transaction(func(tx *gorm.DB) error {
			return crm.Bulk(tx, "INSERT INTO contacts (name, search, created_at, updated_at) VALUES ", "(?, ?, ?, ?)", " RETURNING id", 4, rows, &ids)
		}); err != nil {
			t.Fatal(err)
		}
		if len(ids) != len(rows)/4 {
			t.Fatalf("%d ids for %d rows", len(ids), len(rows)/4)
		}
		for i, id := range ids {
			c, err := crm.GetContact(db, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != names[i] || !c.CreatedAt.Equal(at.Add(time.Duration(i)*time.Hour)) {
				t.Errorf("row %d: name %q created %v; want %q %v", i, c.Name, c.CreatedAt, names[i], at.Add(time.Duration(i)*time.Hour))
			}
		}
	}
}

// In and InTuples select exactly the listed values and tuples.
func TestInAndInTuples(t *testing.T) {
	db := crmtest.Open(t)
	var ids []int64
	for _, n := range []string{"a", "b", "c'd", "e?"} {
		c := crm.Contact{Name: n}
		if err := db.Create(&c).Error; err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	var got []string
	cond, arg := crm.In(db, "name", []string{"b", "c'd", "zzz"})
	if err := db.Model(&crm.Contact{}).Where(cond, arg).Order("id").Pluck("name", &got).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "b,c'd" {
		t.Errorf("In: %v", got)
	}
	cond2, args, err := crm.InTuples(db, "contacts", []string{"id", "name"}, [][]any{{ids[0], "a"}, {ids[1], "not b"}, {ids[2], "c'd"}, {ids[3], "e?"}})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := crm.Query(db, func(r *sql.Rows) error {
		var n string
		got = append(got, n)
		return r.Scan(&got[len(got)-1])
	}, "SELECT name FROM contacts WHERE "+cond2+" AND name <> ? ORDER BY id", append(args, "a")...); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "c'd,e?" {
		t.Errorf("InTuples: %v", got)
	}
}

// Bulk stores each value exactly as binding it one row at a time would:
// the same value, and on SQLite the same storage class — whatever the
// string holds (quotes, ?, NUL, comment marks, invalid UTF-8).
func TestBulkStoresValuesAsBindingWould(t *testing.T) {
	db := crmtest.Open(t)
	ddl := "CREATE TABLE bulk_probe (id INTEGER PRIMARY KEY, s TEXT, i INTEGER, r REAL, b BLOB, d DATETIME, p INTEGER, n TEXT)"
	if crm.Dialect(db) == migrations.Postgres {
		ddl = "CREATE TABLE bulk_probe (id BIGSERIAL PRIMARY KEY, s TEXT, i BIGINT, r DOUBLE PRECISION, b BYTEA, d TIMESTAMPTZ, p BIGINT, n TEXT)"
	}
	if err := db.Exec(ddl).Error; err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456789, time.FixedZone("", 7*3600))
	seven := int64(7)
	strs := []string{"", "plain", "it's", "''", "?", "a ? b ?", "-- not a comment", "/* nor this */", "x'00'", "line\nbreak\ttab", "Жук ёж 😀", `back\slash "quote"`, strings.Repeat("long ", 5000)}
	if crm.Dialect(db) == migrations.SQLite { // PostgreSQL's text holds neither
		strs = append(strs, "nul\x00inside", "bad \xff\xfe utf8")
	}
	nums := []float64{0, 5, -1.5, 1e300, 1.0 / 3}
	var args []any
	for i, s := range strs {
		var p *int64
		if i%2 == 0 {
			p = &seven
		}
		var blob any = []byte(s)
		if i%3 == 1 {
			blob = json.RawMessage(s) // a named byte slice is a blob too
		}
		args = append(args, s, int64(i)*1_000_000_007, nums[i%len(nums)], blob, at.Add(time.Duration(i)*time.Minute), p, nil)
	}
	insert := func(tx *gorm.DB, rows []any) error {
		return crm.Bulk(tx, "INSERT INTO bulk_probe (s, i, r, b, d, p, n) VALUES ", "(?, ?, ?, ?, ?, ?, ?)", "", 7, rows, nil)
	}
	inTx(t, db, func(tx *gorm.DB) error { return insert(tx, args) })
	// The same rows one at a time through gorm, with bound parameters.
	for i := 0; i < len(args); i += 7 {
		if err := db.Exec("INSERT INTO bulk_probe (s, i, r, b, d, p, n) VALUES (?, ?, ?, ?, ?, ?, ?)", args[i:i+7]...).Error; err != nil {
			t.Fatal(err)
		}
	}
	type probe struct {
		ID    int64
		S     string
		I     int64
		R     float64
		B     []byte
		D     time.Time
		P     *int64
		N     *string
		Kinds string
	}
	kinds := "''"
	if crm.Dialect(db) == migrations.SQLite {
		kinds = "typeof(s) || typeof(i) || typeof(r) || typeof(b) || typeof(d) || typeof(p) || typeof(n)"
	}
	var got []probe
	if err := db.Raw("SELECT id, s, i, r, b, d, p, n, " + kinds + " AS kinds FROM bulk_probe ORDER BY id").Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*len(strs) {
		t.Fatalf("%d rows, want %d", len(got), 2*len(strs))
	}
	for i, s := range strs {
		bulk, one := got[i], got[i+len(strs)]
		if bulk.S != s {
			t.Errorf("row %d: s %q, want %q", i, bulk.S, s)
		}
		bulk.ID, one.ID = 0, 0
		if !reflect.DeepEqual(bulk, one) {
			t.Errorf("row %d (%q): bulk stored\n%+v\none by one stored\n%+v", i, clipped(s), bulk, one)
		}
	}
}

func clipped(s string) string { return s[:min(len(s), 20)] }
