package crm_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

func TestCreateContact(t *testing.T) {
	db := crmtest.Open(t)

	t.Run("a contact is stored with its identities", func(t *testing.T) {
		c := newContact(t, db, "  Ivan Petrov ", "phone", "8 (383) 234-90-96", "email", "Ivan@Example.com")
		got, err := crm.GetContact(db, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Ivan Petrov" {
			t.Errorf("name = %q, want it trimmed to %q", got.Name, "Ivan Petrov")
		}
		var handles []string
		for _, i := range got.Identities {
			handles = append(handles, i.Handle())
			if i.ContactID != c.ID {
				t.Errorf("identity %s belongs to %d, want %d", i.Handle(), i.ContactID, c.ID)
			}
		}
		want := []string{"phone:+73832349096", "email:ivan@example.com"}
		if !slices.Equal(handles, want) {
			t.Errorf("identities = %v, want %v", handles, want)
		}
	})

	t.Run("an identity of another contact is a conflict and nothing is created", func(t *testing.T) {
		first := newContact(t, db, "Owner of the phone", "phone", "+79131110000")
		var before int64
		db.Model(&crm.Contact{}).Count(&before)

		err := db.Transaction(func(tx *gorm.DB) error {
			c := crm.Contact{Name: "Someone else"}
			err := crm.CreateContact(tx, &c, keys(t, "email", "else@example.com", "phone", "8 913 111-00-00"))
			if !errors.Is(err, crm.ErrConflict) {
				t.Fatalf("CreateContact with a taken phone: err = %v, want ErrConflict", err)
			}
			// The transaction is still usable after the refusal (PostgreSQL
			// aborts a transaction on a failed statement).
			found, err := crm.SearchContacts(tx, "+79131110000", "RU", 0)
			if err != nil {
				return err
			}
			if !slices.Equal(contactIDs(found), []int64{first.ID}) {
				t.Errorf("after the conflict the phone finds %v, want only %d", contactIDs(found), first.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var after int64
		db.Model(&crm.Contact{}).Count(&after)
		if after != before {
			t.Errorf("contacts went from %d to %d: a refused create left a contact behind", before, after)
		}
		stored, err := crm.FindIdentities(db, keys(t, "email", "else@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 0 {
			t.Errorf("the refused contact's email was stored: %v", stored)
		}
	})

	t.Run("AddIdentity of another contact's identity is a conflict", func(t *testing.T) {
		a := newContact(t, db, "A", "telegram", "1001")
		b := newContact(t, db, "B")
		k := keys(t, "telegram", "1001")[0]
		if _, err := crm.AddIdentity(db, b.ID, k, ""); !errors.Is(err, crm.ErrConflict) {
			t.Errorf("AddIdentity to B: err = %v, want ErrConflict", err)
		}
		if id, err := crm.AddIdentity(db, a.ID, k, ""); err != nil || id.ContactID != a.ID {
			t.Errorf("AddIdentity of A's own identity = %+v, %v; want it returned", id, err)
		}
	})

	t.Run("AddIdentity keeps the extension typed, and an empty one erases nothing", func(t *testing.T) {
		c := newContact(t, db, "Офис")
		raw := []crm.RawHandle{{Kind: "phone", Value: "+7 383 234-90-97 доб. 12"}}
		k := keys(t, "phone", raw[0].Value)[0]
		exts := crm.Extensions(raw, "RU")
		for _, step := range []struct{ ext, want string }{{exts[k], "12"}, {"", "12"}, {"34", "34"}} {
			if _, err := crm.AddIdentity(db, c.ID, k, step.ext); err != nil {
				t.Fatal(err)
			}
			got, err := crm.GetContact(db, c.ID)
			if err != nil || len(got.Identities) != 1 || got.Identities[0].Ext != step.want {
				t.Errorf("after adding with ext %q: %+v, %v; want one identity with ext %q", step.ext, got.Identities, err, step.want)
			}
		}
		if d := (crm.Identity{Kind: crm.PhoneID, Value: "+73832349097", Ext: "34"}).Dialable(); d != "+73832349097;ext=34" {
			t.Errorf("Dialable = %q", d)
		}
		if e164, ext, err := crm.ParsePhone("+73832349097;ext=34", "RU"); err != nil || e164 != "+73832349097" || ext != "34" {
			t.Errorf("Dialable does not read back: %q %q %v", e164, ext, err)
		}
	})

	t.Run("a missing contact is not found", func(t *testing.T) {
		if _, err := crm.GetContact(db, 987654); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestSearchContacts(t *testing.T) {
	db := crmtest.Open(t)
	ivan := newContact(t, db, "Иван Петров", "phone", "+73832349096", "email", "ivan.petrov@example.com")
	john := newContact(t, db, "John Smith", "phone", "+79131234567", "email", "john_smith@example.com")
	acme := crm.Contact{Name: "Maria", Company: "ACME Ltd"}
	if err := crm.CreateContact(db, &acme, keys(t, "telegram", "555")); err != nil {
		t.Fatal(err)
	}
	// Distractors that must not match the queries below.
	newContact(t, db, "Johnny Walker", "email", "john-smith@example.com")
	newContact(t, db, "Пётр Кузнецов")

	tests := []struct {
		name string
		q    string
		want []int64
	}{
		{"a phone typed in national format finds the E.164 phone", "8 (383) 234-90-96", []int64{ivan.ID}},
		{"a phone typed in international format finds it", "+7 383 234 90 96", []int64{ivan.ID}},
		{"partial digits with a dash find the phone", "234-90", []int64{ivan.ID}},
		{"an email in upper case finds it", "IVAN.PETROV@EXAMPLE.COM", []int64{ivan.ID}},
		{"an email with an underscore matches it literally", "John_Smith@Example.com", []int64{john.ID}},
		{"a Latin name in lower case finds it", "john smith", []int64{john.ID}},
		{"a Latin name in upper case finds it", "JOHN SMITH", []int64{john.ID}},
		{"a Cyrillic first name in lower case finds it", "иван", []int64{ivan.ID}},
		{"a Cyrillic surname in upper case finds it", "ПЕТРОВ", []int64{ivan.ID}},
		{"a company name in any case finds it", "acme", []int64{acme.ID}},
		{"a percent sign is not a wildcard", "%", nil},
		{"an unknown name finds nothing", "Sidorov", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crm.SearchContacts(db, tt.q, "RU", 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(contactIDs(got), tt.want) {
				t.Errorf("SearchContacts(%q) = %v, want %v", tt.q, contactIDs(got), tt.want)
			}
		})
	}

	t.Run("results carry their identities", func(t *testing.T) {
		got, err := crm.SearchContacts(db, "234-90", "RU", 0)
		if err != nil || len(got) != 1 {
			t.Fatalf("got %v, %v", got, err)
		}
		if len(got[0].Identities) != 2 {
			t.Errorf("identities = %v, want the phone and the email", got[0].Identities)
		}
	})

	t.Run("an empty query lists every live contact newest first", func(t *testing.T) {
		got, err := crm.SearchContacts(db, "", "RU", 0)
		if err != nil {
			t.Fatal(err)
		}
		ids := contactIDs(got)
		if len(ids) != 5 || !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("ids = %v, want 5 contacts newest first", ids)
		}
	})

	t.Run("a renamed contact is found by its new name only", func(t *testing.T) {
		name := "Ivan Sidorov"
		if _, err := crm.UpdateContact(db, ivan.ID, crm.ContactPatch{Name: &name}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			old := "Иван Петров"
			crm.UpdateContact(db, ivan.ID, crm.ContactPatch{Name: &old})
		})
		if got, _ := crm.SearchContacts(db, "sidorov", "RU", 0); !slices.Equal(contactIDs(got), []int64{ivan.ID}) {
			t.Errorf("new name finds %v, want %d", contactIDs(got), ivan.ID)
		}
		if got, _ := crm.SearchContacts(db, "петров", "RU", 0); len(got) != 0 {
			t.Errorf("old name still finds %v", contactIDs(got))
		}
	})
}

func TestMergeContacts(t *testing.T) {
	db := crmtest.Open(t)
	acct := newAccount(t, db, "telegram", "Sales bot")
	a := newContact(t, db, "Ivan", "phone", "+73832349096")
	b := newContact(t, db, "Ivan P.", "telegram", "42", "email", "ivan@example.com")
	convA := newConversation(t, db, a.ID, acct, base, nil)
	touchA := newTouch(t, db, convA, nil)
	dealA := newDeal(t, db, a.ID, "A's deal")
	convB := newConversation(t, db, b.ID, acct, base.Add(time.Hour), nil)
	touchB := newTouch(t, db, convB, nil)
	touchB2 := newTouch(t, db, convB, func(tc *crm.Touch) { tc.Direction = crm.Outbound })
	dealB := newDeal(t, db, b.ID, "B's deal")

	owner := func(table string, id int64) int64 {
		t.Helper()
		var cid int64
		if err := db.Table(table).Where("id = ?", id).Pluck("contact_id", &cid).Error; err != nil {
			t.Fatal(err)
		}
		return cid
	}
	bIdentities := ids(b.Identities, func(i crm.Identity) int64 { return i.ID })
	bRows := map[string][]int64{
		"identities":    bIdentities,
		"conversations": {convB.ID},
		"touches":       {touchB.ID, touchB2.ID},
		"deals":         {dealB.ID},
	}
	aRows := map[string][]int64{
		"identities":    ids(a.Identities, func(i crm.Identity) int64 { return i.ID }),
		"conversations": {convA.ID},
		"touches":       {touchA.ID},
		"deals":         {dealA.ID},
	}
	assertOwners := func(t *testing.T, rows map[string][]int64, want int64) {
		t.Helper()
		for table, rs := range rows {
			for _, id := range rs {
				if got := owner(table, id); got != want {
					t.Errorf("%s %d belongs to contact %d, want %d", table, id, got, want)
				}
			}
		}
	}

	var merge crm.AuditEntry
	t.Run("merging moves everything of B to A", func(t *testing.T) {
		inTx(t, db, func(tx *gorm.DB) (err error) {
			merge, err = crm.MergeContacts(tx, a.ID, b.ID, nil)
			return err
		})
		assertOwners(t, bRows, a.ID)
		assertOwners(t, aRows, a.ID)
		got, err := crm.GetContact(db, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Identities) != 3 {
			t.Errorf("A has identities %v, want its phone plus B's telegram and email", got.Identities)
		}
	})

	t.Run("B's id resolves to A", func(t *testing.T) {
		got, err := crm.GetContact(db, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID {
			t.Errorf("GetContact(B) = contact %d, want A (%d)", got.ID, a.ID)
		}
	})

	t.Run("search finds A by B's handles and no longer lists B", func(t *testing.T) {
		got, err := crm.SearchContacts(db, "ivan@example.com", "RU", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(contactIDs(got), []int64{a.ID}) {
			t.Errorf("search by B's email = %v, want only A (%d)", contactIDs(got), a.ID)
		}
	})

	t.Run("merging again is a conflict", func(t *testing.T) {
		err := db.Transaction(func(tx *gorm.DB) error {
			_, err := crm.MergeContacts(tx, a.ID, b.ID, nil)
			return err
		})
		if !errors.Is(err, crm.ErrConflict) {
			t.Errorf("second merge: err = %v, want ErrConflict", err)
		}
		err = db.Transaction(func(tx *gorm.DB) error {
			_, err := crm.MergeContacts(tx, b.ID, a.ID, nil)
			return err
		})
		if !errors.Is(err, crm.ErrConflict) {
			t.Errorf("merging A into the merged-away B: err = %v, want ErrConflict", err)
		}
	})

	t.Run("a contact cannot be merged into itself", func(t *testing.T) {
		if _, err := crm.MergeContacts(db, a.ID, a.ID, nil); !errors.Is(err, crm.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})

	var unmerge crm.AuditEntry
	t.Run("undo moves each row back and B lives again", func(t *testing.T) {
		inTx(t, db, func(tx *gorm.DB) (err error) {
			unmerge, err = crm.UndoMerge(tx, merge.ID, nil)
			return err
		})
		assertOwners(t, bRows, b.ID)
		assertOwners(t, aRows, a.ID)
		got, err := crm.GetContact(db, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != b.ID || got.MergedIntoID != nil {
			t.Errorf("GetContact(B) = %d merged into %v, want B itself, not merged", got.ID, got.MergedIntoID)
		}
		if found, _ := crm.SearchContacts(db, "ivan@example.com", "RU", 0); !slices.Equal(contactIDs(found), []int64{b.ID}) {
			t.Errorf("search by B's email = %v, want B (%d)", contactIDs(found), b.ID)
		}
		if found, _ := crm.SearchContacts(db, "+73832349096", "RU", 0); !slices.Equal(contactIDs(found), []int64{a.ID}) {
			t.Errorf("search by A's phone = %v, want A (%d)", contactIDs(found), a.ID)
		}
	})

	t.Run("undoing twice is a conflict", func(t *testing.T) {
		err := db.Transaction(func(tx *gorm.DB) error {
			_, err := crm.UndoMerge(tx, merge.ID, nil)
			return err
		})
		if !errors.Is(err, crm.ErrConflict) {
			t.Errorf("second undo: err = %v, want ErrConflict", err)
		}
	})

	t.Run("undoing an audit entry that is not a merge is invalid", func(t *testing.T) {
		if _, err := crm.UndoMerge(db, unmerge.ID, nil); !errors.Is(err, crm.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})

	t.Run("the merge and the undo are in the audit trail", func(t *testing.T) {
		merges, err := crm.ListAudit(db, crm.AuditFilter{Action: "contact.merge"})
		if err != nil {
			t.Fatal(err)
		}
		if len(merges) != 1 || merges[0].ID != merge.ID || merges[0].ObjectID != a.ID {
			t.Errorf("contact.merge rows = %+v, want one for survivor %d", merges, a.ID)
		}
		var rec crm.MergeRecord
		if err := merges[0].Decode(&rec); err != nil {
			t.Fatal(err)
		}
		if rec.SurvivorID != a.ID || rec.MergedID != b.ID || !slices.Equal(rec.Touches, []int64{touchB.ID, touchB2.ID}) {
			t.Errorf("merge record = %+v", rec)
		}
		unmerges, err := crm.ListAudit(db, crm.AuditFilter{Action: "contact.unmerge"})
		if err != nil {
			t.Fatal(err)
		}
		if len(unmerges) != 1 || unmerges[0].ObjectID != b.ID {
			t.Errorf("contact.unmerge rows = %+v, want one for contact %d", unmerges, b.ID)
		}
		if n, err := crm.VerifyAudit(db); err != nil || n != 2 {
			t.Errorf("VerifyAudit = %d, %v; want 2 intact rows", n, err)
		}
	})
}
