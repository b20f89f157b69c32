package crm_test

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

// auditFixture writes n audit rows, two per transaction, and returns them.
func auditFixture(t *testing.T, db *gorm.DB, n int) []crm.AuditEntry {
	t.Helper()
	actor := int64(7)
	var out []crm.AuditEntry
	for len(out) < n {
		inTx(t, db, func(tx *gorm.DB) error {
			for j := 0; j < 2 && len(out) < n; j++ {
				var who *int64
				if len(out)%2 == 0 {
					who = &actor
				}
				e, err := crm.Audit(tx, who, "deal.won", "deal", int64(len(out)+1),
					map[string]any{"amount": 900000 + len(out), "note": "<b>Иван</b> & co"})
				if err != nil {
					return err
				}
				out = append(out, e)
			}
			return nil
		})
	}
	return out
}

// dropAuditTriggers removes the append-only guard, as an attacker with
// database access could.
func dropAuditTriggers(t *testing.T, db *gorm.DB) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
	if crm.Dialect(db) == "postgres" {
		stmts = []string{"DROP TRIGGER audit_log_no_change ON audit_log"}
	}
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditChain(t *testing.T) {
	db := crmtest.Open(t)
	rows := auditFixture(t, db, 5)

	t.Run("each row chains to the one before", func(t *testing.T) {
		if rows[0].PrevHash != "" {
			t.Errorf("first row prev_hash = %q, want empty", rows[0].PrevHash)
		}
		for i := 1; i < len(rows); i++ {
			if rows[i].PrevHash != rows[i-1].Hash {
				t.Errorf("row %d prev_hash = %q, want row %d's hash %q", rows[i].ID, rows[i].PrevHash, rows[i-1].ID, rows[i-1].Hash)
			}
		}
	})

	t.Run("an untouched chain verifies and counts every row", func(t *testing.T) {
		n, err := crm.VerifyAudit(db)
		if err != nil {
			t.Fatalf("VerifyAudit: %v", err)
		}
		if n != len(rows) {
			t.Errorf("VerifyAudit checked %d rows, want %d", n, len(rows))
		}
	})

	t.Run("an empty trail verifies with zero rows", func(t *testing.T) {
		n, err := crm.VerifyAudit(crmtest.Open(t))
		if err != nil || n != 0 {
			t.Errorf("VerifyAudit = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("stored entries decode to what was written", func(t *testing.T) {
		got, err := crm.ListAudit(db, crm.AuditFilter{ObjectType: "deal", ObjectID: 2})
		if err != nil || len(got) != 1 {
			t.Fatalf("ListAudit = %v, %v", got, err)
		}
		var data struct {
			Amount int    `json:"amount"`
			Note   string `json:"note"`
		}
		if err := got[0].Decode(&data); err != nil {
			t.Fatal(err)
		}
		if data.Amount != 900001 || data.Note != "<b>Иван</b> & co" || got[0].ActorID != nil {
			t.Errorf("entry 2 = %+v, actor %v", data, got[0].ActorID)
		}
	})

	t.Run("the database refuses to update an audit row", func(t *testing.T) {
		err := db.Exec("UPDATE audit_log SET action = 'deal.lost' WHERE id = ?", rows[1].ID).Error
		if err == nil {
			t.Fatal("UPDATE audit_log succeeded; want the append-only trigger to refuse it")
		}
		var action string
		db.Table("audit_log").Where("id = ?", rows[1].ID).Pluck("action", &action)
		if action != "deal.won" {
			t.Errorf("action = %q after the refused update", action)
		}
	})

	t.Run("the database refuses to delete an audit row", func(t *testing.T) {
		if err := db.Exec("DELETE FROM audit_log WHERE id = ?", rows[1].ID).Error; err == nil {
			t.Fatal("DELETE FROM audit_log succeeded; want the append-only trigger to refuse it")
		}
		if n, err := crm.VerifyAudit(db); err != nil || n != len(rows) {
			t.Errorf("VerifyAudit = %d, %v after the refused delete", n, err)
		}
	})
}

func TestVerifyAuditFindsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(db *gorm.DB, rows []crm.AuditEntry) error
		broken func(rows []crm.AuditEntry) int64
	}{
		{
			name: "editing row 2's data breaks the chain at row 2",
			tamper: func(db *gorm.DB, rows []crm.AuditEntry) error {
				return db.Exec(`UPDATE audit_log SET data = '{"amount":1,"note":"x"}' WHERE id = ?`, rows[1].ID).Error
			},
			broken: func(rows []crm.AuditEntry) int64 { return rows[1].ID },
		},
		{
			name: "changing row 4's actor breaks the chain at row 4",
			tamper: func(db *gorm.DB, rows []crm.AuditEntry) error {
				return db.Exec(`UPDATE audit_log SET actor_id = 99 WHERE id = ?`, rows[3].ID).Error
			},
			broken: func(rows []crm.AuditEntry) int64 { return rows[3].ID },
		},
		{
			name: "deleting a middle row breaks the chain at the next row",
			tamper: func(db *gorm.DB, rows []crm.AuditEntry) error {
				return db.Exec(`DELETE FROM audit_log WHERE id = ?`, rows[2].ID).Error
			},
			broken: func(rows []crm.AuditEntry) int64 { return rows[3].ID },
		},
		{
			name: "deleting the first row breaks the chain at the second",
			tamper: func(db *gorm.DB, rows []crm.AuditEntry) error {
				return db.Exec(`DELETE FROM audit_log WHERE id = ?`, rows[0].ID).Error
			},
			broken: func(rows []crm.AuditEntry) int64 { return rows[1].ID },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := crmtest.Open(t)
			rows := auditFixture(t, db, 5)
			dropAuditTriggers(t, db)
			if err := tt.tamper(db, rows); err != nil {
				t.Fatal(err)
			}
			_, err := crm.VerifyAudit(db)
			var broken *crm.AuditBroken
			if !errors.As(err, &broken) {
				t.Fatalf("VerifyAudit err = %v, want *crm.AuditBroken", err)
			}
			if want := tt.broken(rows); broken.ID != want {
				t.Errorf("VerifyAudit reports row %d (%s), want row %d", broken.ID, broken.Reason, want)
			}
		})
	}
}

func TestAppendAllChainsABatchThatVerifies(t *testing.T) {
	db := crmtest.Open(t)
	inTx(t, db, func(tx *gorm.DB) error {
		var c crm.AuditChain
		if _, err := c.Append(tx, nil, "first", "x", 1, nil); err != nil {
			return err
		}
		recs := make([]crm.AuditRecord, 700) // more than one insert
		for i := range recs {
			recs[i] = crm.AuditRecord{Action: "bulk", ObjectType: "x", ObjectID: int64(i), Data: map[string]int{"i": i}}
		}
		if err := c.AppendAll(tx, recs); err != nil {
			return err
		}
		_, err := c.Append(tx, nil, "last", "x", 2, nil)
		return err
	})
	n, err := crm.VerifyAudit(db)
	if err != nil || n != 702 {
		t.Fatalf("verify: %d rows, %v", n, err)
	}
}
