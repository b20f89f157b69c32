package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// demoFingerprint digests what the demo stored that does not depend on
// the clock of the run: touches, contacts, deals.
func demoFingerprint(t *testing.T, ta *testApp) string {
	t.Helper()
	h := sha256.New()
	var touches []crm.Touch
	if err := ta.db.Order("id").Find(&touches).Error; err != nil {
		t.Fatal(err)
	}
	for _, x := range touches {
		fmt.Fprintf(h, "%d|%s|%s|%s|%d|%d|%v|%q|%s|%s|%s\n", x.ID, x.Channel, x.Direction, x.OccurredAt.UTC().Format(time.RFC3339), x.ContactID,
			x.ConversationID, x.DealID != nil, x.NotASale, x.Handle, x.Subject, x.Body)
	}
	var contacts []crm.Contact
	ta.db.Order("id").Find(&contacts)
	for _, c := range contacts {
		fmt.Fprintf(h, "%d|%s|%v\n", c.ID, c.Name, c.ResponsibleID != nil)
	}
	var deals []crm.Deal
	ta.db.Order("id").Find(&deals)
	for _, d := range deals {
		fmt.Fprintf(h, "%d|%s|%d|%s|%d|%s|%s\n", d.ID, d.Title, d.StageID, d.Status, d.Amount, d.LostReason, d.CreatedAt.UTC().Format(time.RFC3339))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDemoIsReproducibleAndPlaysEveryStep(t *testing.T) {
	ctx := context.Background()
	// Monday 5:40 and Wednesday 9:05 in Novosibirsk: the week and the
	// team's hours fall differently.
	ends := []time.Time{time.Date(2026, 3, 15, 22, 40, 0, 0, time.UTC), time.Date(2026, 3, 15, 22, 40, 0, 0, time.UTC), time.Date(2026, 2, 4, 2, 5, 0, 0, time.UTC)}
	var prints []string
	for i, end := range ends {
		ta := newTestApp(t)
		sum, err := ta.Demo(ctx, Options{Now: end, Days: 21, Seed: 7})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if sum.Skipped != 0 {
			t.Errorf("run %d: %d scripted actions found nothing to act on", i, sum.Skipped)
		}
		for _, c := range sum.Channels {
			if c.In == 0 {
				t.Errorf("run %d: no inbound %s touches", i, c.Channel)
			}
		}
		if sum.DealsWon == 0 || sum.DealsLost == 0 || sum.DealsOpen == 0 {
			t.Errorf("run %d: deals won %d, lost %d, open %d", i, sum.DealsWon, sum.DealsLost, sum.DealsOpen)
		}
		prints = append(prints, demoFingerprint(t, ta))
		if i == 0 {
			demoAuditSpansTheDays(t, ta, end)
			demoCallsAreAsFromAPBX(t, ta)
		}
	}
	if prints[0] != prints[1] {
		t.Error("the same seed and end time gave different data")
	}
	if prints[0] == prints[2] {
		t.Error("another end time gave the same data")
	}
}

func TestDemoTakesTheFirstOwnerAndRefusesData(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t)
	if _, _, err := ta.EnsureOwner(ctx, "boss@example.ru", "first-owner-pw"); err != nil {
		t.Fatal(err)
	}
	sum, err := ta.Demo(ctx, Options{Days: 7})
	if err != nil {
		t.Fatalf("a database with only the first owner is empty: %v", err)
	}
	if sum.KeptOwner != "boss@example.ru" {
		t.Errorf("kept owner %q", sum.KeptOwner)
	}
	if _, _, _, err := ta.Login(ctx, "boss@example.ru", "first-owner-pw", "test"); err != nil {
		t.Errorf("the first owner's password changed: %v", err)
	}
	if _, err := ta.Demo(ctx, Options{Days: 7}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second demo: %v, want ErrNotEmpty", err)
	}

	other := newTestApp(t)
	other.user("lead@example.ru", crm.Lead)
	if _, err := other.Demo(ctx, Options{Days: 7}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("a database with a lead: %v, want ErrNotEmpty", err)
	}
	if _, err := other.Demo(ctx, Options{Days: 7, Password: "short"}); err == nil || errors.Is(err, ErrNotEmpty) {
		t.Fatalf("a short password: %v", err)
	}
}

// demoAuditSpansTheDays: the demo's audit trail is dated across its days,
// as the work happened (not all at generation time), in the order it was
// written, and its hash chain holds.
func demoAuditSpansTheDays(t *testing.T, ta *testApp, end time.Time) {
	t.Helper()
	var es []crm.AuditEntry
	if err := ta.db.Order("id").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	days := map[string]bool{}
	for i, e := range es {
		days[e.At.Format(time.DateOnly)] = true
		if e.At.After(end) {
			t.Fatalf("audit entry %d (%s) dated %v, after the demo's end %v", e.ID, e.Action, e.At, end)
		}
		if i > 0 && e.At.Before(es[i-1].At.Add(-24*time.Hour)) {
			t.Errorf("audit entry %d (%s) at %v is a day older than the one before it (%v)", e.ID, e.Action, e.At, es[i-1].At)
		}
	}
	if len(days) < 10 {
		t.Errorf("the demo's %d audit entries fall on %d days; want them spread over its weeks", len(es), len(days))
	}
	if n, err := crm.VerifyAudit(ta.db); err != nil {
		t.Errorf("the audit chain after %d entries: %v", n, err)
	}
}

// demoCallsAreAsFromAPBX: a call carries no text, as from a PBX (the
// timeline and the list word it in the reader's language), and the
// answered ones have their recording.
func demoCallsAreAsFromAPBX(t *testing.T, ta *testApp) {
	t.Helper()
	var r struct{ Calls, WithText, Answered, Recorded int64 }
	ta.db.Raw(`SELECT COUNT(*) AS calls, SUM(CASE WHEN body <> '' THEN 1 ELSE 0 END) AS with_text,
		SUM(CASE WHEN call_status = 'answered' THEN 1 ELSE 0 END) AS answered,
		SUM(CASE WHEN call_status = 'answered' AND EXISTS (SELECT 1 FROM attachments a WHERE a.touch_id = touches.id) THEN 1 ELSE 0 END) AS recorded
		FROM touches WHERE kind = 'call'`).Scan(&r)
	if r.Calls == 0 || r.WithText != 0 || r.Answered == 0 || r.Recorded != r.Answered {
		t.Errorf("demo calls: %+v; want calls, none with text, every answered one recorded", r)
	}
}
