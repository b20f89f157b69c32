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

func TestDismissDuplicate(t *testing.T) {
	db := crmtest.Open(t)
	acct := newAccount(t, db, "web", "Site")
	manager := newUser(t, db, crm.Manager)
	// hint records, as ingest does, that a message to contact carried a
	// handle of other.
	at := base
	hint := func(contact, other int64) crm.MergeHint {
		t.Helper()
		at = at.Add(time.Minute)
		tc := newTouch(t, db, newConversation(t, db, contact, acct, at, nil), nil)
		h := crm.MergeHint{ContactID: contact, OtherID: other, TouchID: tc.ID, CreatedAt: at}
		if err := db.Create(&h).Error; err != nil {
			t.Fatal(err)
		}
		return h
	}
	suggested := func(id int64) []int64 {
		t.Helper()
		ds, err := crm.Duplicates(db, id)
		if err != nil {
			t.Fatalf("Duplicates(%d): %v", id, err)
		}
		return ids(ds, func(d crm.Duplicate) int64 { return d.Contact.ID })
	}
	dismiss := func(id, other int64) (crm.AuditEntry, error) {
		var e crm.AuditEntry
		err := db.Transaction(func(tx *gorm.DB) (err error) {
			e, err = crm.DismissDuplicate(tx, id, other, &manager.ID)
			return err
		})
		return e, err
	}
	reload := func(h crm.MergeHint) crm.MergeHint {
		t.Helper()
		var got crm.MergeHint
		if err := db.Take(&got, h.ID).Error; err != nil {
			t.Fatal(err)
		}
		return got
	}

	anna := newContact(t, db, "Анна", "phone", "+79135550102")
	petrova := newContact(t, db, "Anna Petrova", "email", "anna@petrova.ru")
	oleg := newContact(t, db, "Олег", "phone", "+79135550109")
	first := hint(anna.ID, petrova.ID)
	olegs := hint(oleg.ID, anna.ID)

	t.Run("a dismissed pair is no longer suggested, from either end", func(t *testing.T) {
		if got := suggested(anna.ID); !slices.Equal(got, []int64{petrova.ID, oleg.ID}) {
			t.Fatalf("before: Anna is offered %v, want Petrova and Oleg", got)
		}
		e, err := dismiss(petrova.ID, anna.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := suggested(anna.ID); !slices.Equal(got, []int64{oleg.ID}) {
			t.Errorf("after: Anna is offered %v, want only Oleg", got)
		}
		if got := suggested(petrova.ID); len(got) != 0 {
			t.Errorf("after: Petrova is offered %v, want none", got)
		}
		h := reload(first)
		if h.DismissedAt == nil || h.DismissedBy == nil || *h.DismissedBy != manager.ID {
			t.Errorf("the hint after the dismissal: %+v, want dismissed by %d", h, manager.ID)
		}
		if h := reload(olegs); h.DismissedAt != nil {
			t.Errorf("a hint of another pair was dismissed: %+v", h)
		}

		if e.Action != "contact.not_duplicate" || e.ObjectType != "contact" || e.ObjectID != petrova.ID || e.ActorID == nil || *e.ActorID != manager.ID {
			t.Errorf("audit entry %+v", e)
		}
		var rec crm.NotDuplicate
		if err := e.Decode(&rec); err != nil || rec.OtherID != anna.ID || !slices.Equal(rec.Hints, []int64{first.ID}) {
			t.Errorf("audit data %s (%v): want other_id %d, hints [%d]", e.Data, err, anna.ID, first.ID)
		}
		if _, err := crm.VerifyAudit(db); err != nil {
			t.Errorf("the audit chain: %v", err)
		}
	})

	t.Run("dismissing it again is not found", func(t *testing.T) {
		if _, err := dismiss(anna.ID, petrova.ID); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("a new message naming both suggests them again", func(t *testing.T) {
		again := hint(petrova.ID, anna.ID)
		ds, err := crm.Duplicates(db, anna.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Oldest undismissed hint first: Oleg's, then the new one.
		if len(ds) != 2 || ds[1].Contact.ID != petrova.ID || ds[1].TouchID != again.TouchID {
			t.Errorf("Anna is offered %+v, want Oleg, then Petrova through touch %d", ds, again.TouchID)
		}
		if _, err := dismiss(anna.ID, petrova.ID); err != nil {
			t.Fatalf("dismissing the new evidence: %v", err)
		}
		if h := reload(again); h.DismissedAt == nil {
			t.Error("the new hint was not dismissed")
		}
	})

	t.Run("a pair no message named is not found, and nothing changes", func(t *testing.T) {
		var before int64
		db.Model(&crm.AuditEntry{}).Count(&before)
		if _, err := dismiss(petrova.ID, oleg.ID); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
		if _, err := dismiss(anna.ID, 999999); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("a missing contact: err = %v, want ErrNotFound", err)
		}
		var after int64
		db.Model(&crm.AuditEntry{}).Count(&after)
		if after != before {
			t.Errorf("%d audit entries were written by failed dismissals", after-before)
		}
		if got := suggested(anna.ID); !slices.Equal(got, []int64{oleg.ID}) {
			t.Errorf("Anna is offered %v, want Oleg still", got)
		}
	})

	t.Run("a contact is not its own duplicate", func(t *testing.T) {
		if _, err := dismiss(anna.ID, anna.ID); !errors.Is(err, crm.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})

	t.Run("merged contacts: every hint between the two groups is dismissed", func(t *testing.T) {
		// Boris and Bob were merged, as were Vera and Vika; messages tied
		// Bob to Vika, and Vera to Boris. A third, Gleb, is tied to Bob.
		boris := newContact(t, db, "Борис", "phone", "+79135550201")
		bob := newContact(t, db, "Bob", "email", "bob@example.com")
		vera := newContact(t, db, "Вера", "phone", "+79135550202")
		vika := newContact(t, db, "Vika", "email", "vika@example.com")
		gleb := newContact(t, db, "Глеб", "phone", "+79135550203")
		h1 := hint(bob.ID, vika.ID)
		h2 := hint(vera.ID, boris.ID)
		h3 := hint(gleb.ID, bob.ID)
		inTx(t, db, func(tx *gorm.DB) error {
			if _, err := crm.MergeContacts(tx, boris.ID, bob.ID, nil); err != nil {
				return err
			}
			_, err := crm.MergeContacts(tx, vera.ID, vika.ID, nil)
			return err
		})
		if got := suggested(boris.ID); !slices.Equal(got, []int64{vera.ID, gleb.ID}) {
			t.Fatalf("Boris is offered %v, want Vera and Gleb", got)
		}
		// Asked through the merged-away ids, which resolve to the survivors.
		e, err := dismiss(bob.ID, vika.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.ObjectID != boris.ID {
			t.Errorf("audited on contact %d, want the survivor %d", e.ObjectID, boris.ID)
		}
		var rec crm.NotDuplicate
		if err := e.Decode(&rec); err != nil || rec.OtherID != vera.ID || !slices.Equal(rec.Hints, []int64{h1.ID, h2.ID}) {
			t.Errorf("audit data %s (%v): want other_id %d, hints [%d %d]", e.Data, err, vera.ID, h1.ID, h2.ID)
		}
		if got := suggested(boris.ID); !slices.Equal(got, []int64{gleb.ID}) {
			t.Errorf("Boris is offered %v, want only Gleb", got)
		}
		if got := suggested(vera.ID); len(got) != 0 {
			t.Errorf("Vera is offered %v, want none", got)
		}
		if h := reload(h3); h.DismissedAt != nil {
			t.Errorf("the hint to Gleb was dismissed: %+v", h)
		}
	})
}
