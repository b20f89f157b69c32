package report

import (
	"encoding/json"
	"fmt"
	"sort"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// The funnel per source: the period's leads (contacts) → their deals →
// each open stage of the pipeline → won, with the number and share lost at
// each step, and the lost deals by reason. A deal has reached a stage when
// it stands at or after it, or is won; a lost deal reached the stage it
// was lost from (the audit trail's previous stage of its "deal.lost"
// entry; the first stage when there is none). Deals are those of the
// query's basis, attributed by its model.

// Step is one step of a funnel.
type Step struct {
	Name      string   `json:"name"`               // "contacts", "deals", a stage's name, "won"
	StageID   *int64   `json:"stage_id,omitempty"` // for a stage
	Count     int64    `json:"count"`              // how many reached the step
	Lost      int64    `json:"lost"`               // how many of the previous step did not
	LostShare *float64 `json:"lost_share"`         // Lost / previous step's count
}

// Reason is how many deals were lost for a reason.
type Reason struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// Funnel is one source's funnel (SourceID nil: no source).
type Funnel struct {
	SourceID *int64   `json:"source_id"`
	Source   string   `json:"source"`
	Steps    []Step   `json:"steps"`
	Lost     []Reason `json:"lost_reasons"`
}

// Funnels is the funnel of every source with leads or deals in the period.
type Funnels struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Model    Model    `json:"model"`
	Basis    Basis    `json:"basis"`
	Funnels  []Funnel `json:"funnels"`
	NoSource Funnel   `json:"no_source"`
	Total    Funnel   `json:"total"`
}

// funnelAcc gathers one funnel's counts.
type funnelAcc struct {
	contacts, deals, won int64
	reached              map[int64]int64 // stage position → deals that reached it
	reasons              map[string]int64
}

// RunFunnel computes the funnels for q (its group is ignored: by source).
func RunFunnel(tx *gorm.DB, q Query) (Funnels, error) {
	q.Group = BySource
	if err := q.Check(); err != nil {
		return Funnels{}, fmt.Errorf("%w: %v", crm.ErrInvalid, err)
	}
	f, err := load(tx, q)
	if err != nil {
		return Funnels{}, err
	}
	stages, err := crm.Stages(tx)
	if err != nil {
		return Funnels{}, fmt.Errorf("report: stages: %w", err)
	}
	prev, err := lostFrom(tx, f.deals)
	if err != nil {
		return Funnels{}, err
	}
	pos := map[int64]int{}
	var open []crm.Stage
	for _, s := range stages {
		pos[s.ID] = s.Position
		if s.Kind == crm.StageOpen {
			open = append(open, s)
		}
	}
	b := builder{q: q}
	accs := map[int64]*funnelAcc{}
	acc := func(a attr) *funnelAcc {
		k := b.key(a).src
		if accs[k] == nil {
			accs[k] = &funnelAcc{reached: map[int64]int64{}, reasons: map[string]int64{}}
		}
		return accs[k]
	}
	total := &funnelAcc{reached: map[int64]int64{}, reasons: map[string]int64{}}
	for _, l := range f.leads {
		acc(l.at()).contacts++
		total.contacts++
	}
	for _, d := range f.deals {
		if deal, _, _ := b.counts(d); !deal {
			continue
		}
		reach := pos[d.StageID]
		switch d.Status {
		case string(crm.DealWon):
			reach = 1 << 30
		case string(crm.DealLost):
			reach = 0
			if st, ok := prev[d.ID]; ok {
				reach = pos[st]
			}
		}
		for _, a := range []*funnelAcc{acc(d.at()), total} {
			a.deals++
			if d.Status == string(crm.DealWon) {
				a.won++
			}
			if d.Status == string(crm.DealLost) {
				a.reasons[d.LostReason]++
			}
			for i, s := range open {
				if reach >= s.Position || (i == 0 && d.Status == string(crm.DealLost)) {
					a.reached[s.ID]++
				}
			}
		}
	}
	names, err := loadNames(tx)
	if err != nil {
		return Funnels{}, err
	}
	out := Funnels{From: day(q.From).Format("2006-01-02"), To: day(q.To).Format("2006-01-02"), Model: q.Model, Basis: q.Basis, Funnels: []Funnel{}}
	for k, a := range accs {
		fn := a.funnel(open)
		if k == 0 {
			out.NoSource = fn
			continue
		}
		id := k
		fn.SourceID, fn.Source = &id, names.sources[k].Name
		out.Funnels = append(out.Funnels, fn)
	}
	if out.NoSource.Steps == nil {
		out.NoSource = (&funnelAcc{}).funnel(open)
	}
	sort.Slice(out.Funnels, func(i, j int) bool { return out.Funnels[i].Source < out.Funnels[j].Source })
	out.Total = total.funnel(open)
	return out, nil
}

func (a *funnelAcc) funnel(open []crm.Stage) Funnel {
	fn := Funnel{Steps: []Step{{Name: "contacts", Count: a.contacts}, {Name: "deals", Count: a.deals}}, Lost: []Reason{}}
	for _, s := range open {
		id := s.ID
		fn.Steps = append(fn.Steps, Step{Name: s.Name, StageID: &id, Count: a.reached[s.ID]})
	}
	fn.Steps = append(fn.Steps, Step{Name: "won", Count: a.won})
	for i := 1; i < len(fn.Steps); i++ {
		p := fn.Steps[i-1].Count
		fn.Steps[i].Lost = max(0, p-fn.Steps[i].Count)
		fn.Steps[i].LostShare = ratio(fn.Steps[i].Lost, p)
	}
	for r, n := range a.reasons {
		fn.Lost = append(fn.Lost, Reason{Reason: r, Count: n})
	}
	sort.Slice(fn.Lost, func(i, j int) bool {
		if fn.Lost[i].Count != fn.Lost[j].Count {
			return fn.Lost[i].Count > fn.Lost[j].Count
		}
		return fn.Lost[i].Reason < fn.Lost[j].Reason
	})
	return fn
}

// lostFrom reads, for the lost deals, the stage each was lost from: the
// last "deal.lost" audit entry's previous stage.
func lostFrom(tx *gorm.DB, deals []dealFact) (map[int64]int64, error) {
	var ids []int64
	for _, d := range deals {
		if d.Status == string(crm.DealLost) {
			ids = append(ids, d.ID)
		}
	}
	out := map[int64]int64{}
	for start := 0; start < len(ids); start += 500 {
		var rows []struct {
			ObjectID int64
			Data     string
		}
		chunk := ids[start:min(start+500, len(ids))]
		if err := tx.Raw("SELECT object_id, data FROM audit_log WHERE action = 'deal.lost' AND object_type = 'deal' AND object_id IN ? ORDER BY id", chunk).
			Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("report: lost deals' stages: %w", err)
		}
		for _, r := range rows {
			var d struct {
				Previous int64 `json:"previous_stage_id"`
			}
			if json.Unmarshal([]byte(r.Data), &d) == nil && d.Previous != 0 {
				out[r.ObjectID] = d.Previous
			}
		}
	}
	return out, nil
}
