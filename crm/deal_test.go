package crm_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

// stageNamed finds a stage of the current pipeline by name.
func stageNamed(t *testing.T, db *gorm.DB, name string) crm.Stage {
	t.Helper()
	stages, err := crm.Stages(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stage %q in %v", name, stages)
	return crm.Stage{}
}

func stageNames(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	stages, err := crm.Stages(db)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range stages {
		out = append(out, s.Name+"/"+string(s.Kind))
	}
	return out
}

func TestDealLifecycle(t *testing.T) {
	db := crmtest.Open(t)
	c := newContact(t, db, "Buyer", "phone", "+79131234567")

	t.Run("a new deal is open at stage New", func(t *testing.T) {
		d := newDeal(t, db, c.ID, "  Kitchen  ")
		got, err := crm.GetDeal(db, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.StageID != stageNamed(t, db, "New").ID || got.Status != crm.DealOpen || got.ClosedAt != nil {
			t.Errorf("new deal = stage %d status %s closed %v; want New, open, not closed", got.StageID, got.Status, got.ClosedAt)
		}
		if got.Title != "Kitchen" {
			t.Errorf("title = %q, want it trimmed", got.Title)
		}
	})

	t.Run("a deal without a valid currency is invalid", func(t *testing.T) {
		for _, cur := range []string{"", "rub", "RUBL"} {
			d := crm.Deal{ContactID: c.ID, Currency: cur}
			if err := crm.OpenDeal(db, &d); !errors.Is(err, crm.ErrInvalid) {
				t.Errorf("OpenDeal with currency %q: err = %v, want ErrInvalid", cur, err)
			}
		}
	})

	t.Run("winning with a zero amount is invalid and changes nothing", func(t *testing.T) {
		d := newDeal(t, db, c.ID, "zero")
		for _, amount := range []int64{0, -100} {
			if _, err := crm.WinDeal(db, d.ID, amount); !errors.Is(err, crm.ErrInvalid) {
				t.Errorf("WinDeal(%d): err = %v, want ErrInvalid", amount, err)
			}
		}
		if got, _ := crm.GetDeal(db, d.ID); got.Status != crm.DealOpen {
			t.Errorf("status = %s after a refused win, want open", got.Status)
		}
	})

	t.Run("winning with an amount closes the deal at the won stage", func(t *testing.T) {
		d := newDeal(t, db, c.ID, "win")
		got, err := crm.WinDeal(db, d.ID, 900000)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != crm.DealWon || got.Amount != 900000 || got.ClosedAt == nil || got.StageID != stageNamed(t, db, "Won").ID {
			t.Errorf("won deal = status %s amount %d closed %v stage %d", got.Status, got.Amount, got.ClosedAt, got.StageID)
		}
	})

	t.Run("losing without a reason is invalid", func(t *testing.T) {
		d := newDeal(t, db, c.ID, "no reason")
		for _, reason := range []string{"", "   "} {
			if _, err := crm.LoseDeal(db, d.ID, reason); !errors.Is(err, crm.ErrInvalid) {
				t.Errorf("LoseDeal(%q): err = %v, want ErrInvalid", reason, err)
			}
		}
	})

	t.Run("moving a deal to the won or lost stage directly is invalid", func(t *testing.T) {
		d := newDeal(t, db, c.ID, "shortcut")
		for _, st := range []string{"Won", "Lost"} {
			if _, err := crm.MoveDeal(db, d.ID, stageNamed(t, db, st).ID); !errors.Is(err, crm.ErrInvalid) {
				t.Errorf("MoveDeal to %s: err = %v, want ErrInvalid", st, err)
			}
		}
		if _, err := crm.MoveDeal(db, d.ID, 9999); !errors.Is(err, crm.ErrInvalid) {
			t.Errorf("MoveDeal to a missing stage: err = %v, want ErrInvalid", err)
		}
		if got, _ := crm.GetDeal(db, d.ID); got.Status != crm.DealOpen || got.StageID != stageNamed(t, db, "New").ID {
			t.Errorf("deal = %s at stage %d after refused moves, want open at New", got.Status, got.StageID)
		}
	})

	t.Run("moving a lost deal to an open stage reopens it", func(t *testing.T) {
		d := newDeal(t, db, c.ID, "comeback")
		lost, err := crm.LoseDeal(db, d.ID, " too expensive ")
		if err != nil {
			t.Fatal(err)
		}
		if lost.Status != crm.DealLost || lost.LostReason != "too expensive" || lost.ClosedAt == nil {
			t.Fatalf("lost deal = %s reason %q closed %v", lost.Status, lost.LostReason, lost.ClosedAt)
		}
		qualified := stageNamed(t, db, "Qualified")
		got, err := crm.MoveDeal(db, d.ID, qualified.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != crm.DealOpen || got.ClosedAt != nil || got.StageID != qualified.ID || got.LostReason != "" {
			t.Errorf("reopened deal = status %s closed %v stage %d reason %q; want open at Qualified, not closed, no reason",
				got.Status, got.ClosedAt, got.StageID, got.LostReason)
		}
		open, err := crm.OpenDeals(db, c.ID)
		if err != nil || !slices.Contains(ids(open, func(d crm.Deal) int64 { return d.ID }), d.ID) {
			t.Errorf("OpenDeals = %v, %v; want it to include the reopened deal", open, err)
		}
	})

	t.Run("a missing deal is not found", func(t *testing.T) {
		if _, err := crm.WinDeal(db, 9999, 100); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("WinDeal: err = %v, want ErrNotFound", err)
		}
		if _, err := crm.MoveDeal(db, 9999, stageNamed(t, db, "New").ID); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("MoveDeal: err = %v, want ErrNotFound", err)
		}
	})
}

func TestSetPipeline(t *testing.T) {
	db := crmtest.Open(t)
	c := newContact(t, db, "Buyer")
	newS, qual, prop := stageNamed(t, db, "New"), stageNamed(t, db, "Qualified"), stageNamed(t, db, "Proposal")
	won, lost := stageNamed(t, db, "Won"), stageNamed(t, db, "Lost")
	d := newDeal(t, db, c.ID, "in New")

	t.Run("stages are renamed, reordered and added", func(t *testing.T) {
		got, err := crm.SetPipeline(db, []crm.Stage{
			{ID: newS.ID, Name: " Inbox "},
			{Name: "Call back"},
			{ID: prop.ID, Name: "Offer sent"},
			{ID: qual.ID, Name: "Qualified"},
			{ID: won.ID, Name: "Paid", Kind: crm.StageWon},
			{ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Inbox/open", "Call back/open", "Offer sent/open", "Qualified/open", "Paid/won", "Lost/lost"}
		if names := stageNames(t, db); !slices.Equal(names, want) {
			t.Errorf("pipeline = %v, want %v", names, want)
		}
		for i, s := range got {
			if s.Position != i+1 {
				t.Errorf("stage %q at position %d, want %d", s.Name, s.Position, i+1)
			}
		}
		if got, _ := crm.GetDeal(db, d.ID); got.StageID != newS.ID {
			t.Errorf("the deal moved to stage %d, want it to stay at the renamed %d", got.StageID, newS.ID)
		}
		if nd := newDeal(t, db, c.ID, "after"); nd.StageID != newS.ID {
			t.Errorf("a new deal starts at stage %d, want the first open stage Inbox (%d)", nd.StageID, newS.ID)
		}
	})

	refused := []struct {
		name   string
		stages []crm.Stage
		want   error
	}{
		{"a pipeline without a won stage is invalid", []crm.Stage{
			{ID: newS.ID, Name: "Inbox"}, {ID: won.ID, Name: "Paid"}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		}, crm.ErrInvalid},
		{"a pipeline with two lost stages is invalid", []crm.Stage{
			{ID: newS.ID, Name: "Inbox"}, {ID: won.ID, Name: "Paid", Kind: crm.StageWon},
			{ID: lost.ID, Name: "Lost", Kind: crm.StageLost}, {Name: "Lost again", Kind: crm.StageLost},
		}, crm.ErrInvalid},
		{"a pipeline without an open stage is invalid", []crm.Stage{
			{ID: won.ID, Name: "Paid", Kind: crm.StageWon}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		}, crm.ErrInvalid},
		{"a stage without a name is invalid", []crm.Stage{
			{ID: newS.ID, Name: "  "}, {ID: won.ID, Name: "Paid", Kind: crm.StageWon}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		}, crm.ErrInvalid},
		{"a stage of an unknown kind is invalid", []crm.Stage{
			{ID: newS.ID, Name: "Inbox"}, {Name: "Maybe", Kind: "paused"},
			{ID: won.ID, Name: "Paid", Kind: crm.StageWon}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		}, crm.ErrInvalid},
		{"a stage id that does not exist is not found", []crm.Stage{
			{ID: 9999, Name: "Ghost"}, {ID: won.ID, Name: "Paid", Kind: crm.StageWon}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		}, crm.ErrNotFound},
		{"a stage listed twice is invalid", []crm.Stage{
			{ID: newS.ID, Name: "Inbox"}, {ID: newS.ID, Name: "Inbox again"},
			{ID: won.ID, Name: "Paid", Kind: crm.StageWon}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		}, crm.ErrInvalid},
		{"removing a stage that has deals is a conflict", []crm.Stage{
			{ID: newS.ID, Name: "Inbox"}, {ID: qual.ID, Name: "Qualified"},
			{ID: won.ID, Name: "Paid", Kind: crm.StageWon}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		}, crm.ErrConflict},
		{"making a stage that has deals a won stage is a conflict", []crm.Stage{
			{ID: newS.ID, Name: "Inbox", Kind: crm.StageWon}, {ID: qual.ID, Name: "Qualified"}, {ID: prop.ID, Name: "Offer sent"},
			{ID: won.ID, Name: "Paid"}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		}, crm.ErrConflict},
	}
	// "Call back" is empty, "Offer sent" holds a deal: removing both must
	// remove neither.
	offer := newDeal(t, db, c.ID, "in Offer sent")
	if _, err := crm.MoveDeal(db, offer.ID, prop.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range refused {
		t.Run(tt.name+" and leaves the pipeline as it was", func(t *testing.T) {
			before := stageNames(t, db)
			// Called outside a transaction on purpose: a refusal must not
			// leave a half-applied pipeline behind.
			if _, err := crm.SetPipeline(db, tt.stages); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if after := stageNames(t, db); !slices.Equal(after, before) {
				t.Errorf("pipeline changed from %v to %v", before, after)
			}
		})
	}

	t.Run("removing stages works once their deals have moved", func(t *testing.T) {
		if _, err := crm.MoveDeal(db, offer.ID, newS.ID); err != nil {
			t.Fatal(err)
		}
		_, err := crm.SetPipeline(db, []crm.Stage{
			{ID: newS.ID, Name: "Inbox"}, {ID: won.ID, Name: "Paid", Kind: crm.StageWon}, {ID: lost.ID, Name: "Lost", Kind: crm.StageLost},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Inbox/open", "Paid/won", "Lost/lost"}
		if names := stageNames(t, db); !slices.Equal(names, want) {
			t.Errorf("pipeline = %v, want %v", names, want)
		}
	})
}

// A database that does not answer is said to be one, never "the pipeline
// has no open stage" (issue 14, item 16).
func TestADatabaseOutageIsNotAnEmptyPipeline(t *testing.T) {
	db := crmtest.Open(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.Close()
	for name, err := range map[string]error{
		"OpenDeal":       crm.OpenDeal(db, &crm.Deal{ContactID: 1, Currency: "RUB"}),
		"FirstOpenStage": func() error { _, err := crm.FirstOpenStage(db); return err }(),
	} {
		if err == nil || strings.Contains(err.Error(), "no open stage") || !strings.Contains(err.Error(), "database did not answer") {
			t.Errorf("%s with the database closed: %v", name, err)
		}
	}
}
