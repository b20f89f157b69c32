package crm_test

import (
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
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
	for _, n := range []string{"a", "b", "c'd", "e"} {
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
	cond2, args, err := crm.InTuples(db, []string{"id", "name"}, [][]any{{ids[0], "a"}, {ids[1], "not b"}, {ids[3], "e"}})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := db.Model(&crm.Contact{}).Where(cond2, args...).Order("id").Pluck("name", &got).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a,e" {
		t.Errorf("InTuples: %v", got)
	}
}
