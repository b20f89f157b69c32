package inbox

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// SpendDays lists spend days of one source (0: all) in from..to
// (YYYY-MM-DD, inclusive; empty: open).
func (a *App) SpendDays(ctx context.Context, source int64, from, to string) ([]crm.SpendDay, error) {
	f := crm.SpendFilter{AdSourceID: source}
	var err error
	if f.From, err = optionalDay("from", from); err != nil {
		return nil, err
	}
	if f.To, err = optionalDay("to", to); err != nil {
		return nil, err
	}
	return crm.ListSpendDays(a.db.WithContext(ctx), f)
}

func optionalDay(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return d, crm.Invalid("%s must be a date like 2026-03-01, not %q", name, s)
	}
	return d, nil
}

// SourcePatch changes an ad source's settings; nil fields stay.
type SourcePatch struct {
	VATIncluded *bool `json:"vat_included"`
}

// UpdateAdSource changes a source's settings. Audited.
func (a *App) UpdateAdSource(ctx context.Context, u crm.User, id int64, p SourcePatch) (crm.AdSource, error) {
	var s crm.AdSource
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		var err error
		if s, err = crm.GetAdSource(tx, id); err != nil || p.VATIncluded == nil {
			return err
		}
		if s, err = crm.SetVATIncluded(tx, id, *p.VATIncluded); err != nil {
			return err
		}
		_, err = crm.Audit(tx, &u.ID, "ad_source.update", "ad_source", id, p)
		return err
	})
	return s, err
}

// SpendImport is a spend CSV to import. With DryRun set nothing is stored:
// the answer says what would be (the import screen's preview). With
// CreateSources set, source names that do not exist yet are created.
type SpendImport struct {
	CSV           string `json:"csv"`
	CreateSources bool   `json:"create_sources"`
	DryRun        bool   `json:"dry_run"`
}

// SpendImportResult says what an import stored (or, dry, would store).
type SpendImportResult struct {
	Stored  bool             `json:"stored"`
	Lines   int              `json:"lines"`
	Days    int              `json:"days"`
	From    string           `json:"from,omitempty"`
	To      string           `json:"to,omitempty"`
	Totals  map[string]int64 `json:"totals"` // per currency, minor units
	Unknown []string         `json:"unknown_sources"`
	Created []crm.AdSource   `json:"created_sources"`
	Errors  []LineError      `json:"errors"`
}

// ImportSpend stores a spend CSV: each line's day replaces what that
// source, campaign and day had (lines of the file for the same day add
// up). A file with any bad line, or a source not known when CreateSources
// is off, stores nothing and answers an invalid error listing every line.
// Audited.
func (a *App) ImportSpend(ctx context.Context, u crm.User, req SpendImport) (SpendImportResult, error) {
	lines, errs := parseSpendCSV(req.CSV, a.opts.Currency)
	res := SpendImportResult{Lines: len(lines), Totals: map[string]int64{}, Unknown: []string{}, Created: []crm.AdSource{}, Errors: append([]LineError{}, errs...)}
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		ids, err := a.importSources(tx, u, lines, req, &res)
		if err != nil {
			return err
		}
		days := spendDays(lines, ids, &res)
		if len(res.Errors) > 0 || req.DryRun {
			return nil
		}
		if err := crm.SetSpendDays(tx, days); err != nil {
			return err
		}
		res.Stored = true
		_, err = crm.Audit(tx, &u.ID, "spend.import", "ad_source", 0, map[string]any{
			"lines": res.Lines, "days": res.Days, "from": res.From, "to": res.To, "totals": res.Totals, "created_sources": len(res.Created)})
		return err
	})
	if err != nil {
		return res, err
	}
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
	if len(res.Errors) > 0 && !req.DryRun {
		msg := make([]string, 0, len(res.Errors))
		for _, e := range res.Errors {
			msg = append(msg, e.String())
		}
		return res, crm.Invalid("nothing was imported: %d bad line(s)\n%s", len(res.Errors), strings.Join(msg, "\n"))
	}
	return res, nil
}

// importSources maps the file's source names (case-insensitively) to
// sources, creating the unknown ones when asked (a dry run only lists them,
// under ids of its own below zero); otherwise each line naming an unknown
// source is an error.
func (a *App) importSources(tx *gorm.DB, u crm.User, lines []spendLine, req SpendImport, res *SpendImportResult) (map[string]int64, error) {
	all, err := crm.ListAdSources(tx)
	if err != nil {
		return nil, err
	}
	ids := map[string]int64{}
	for _, s := range all {
		ids[strings.ToLower(s.Name)] = s.ID
	}
	unknown := map[string]bool{}
	for _, l := range lines {
		key := strings.ToLower(l.source)
		if _, ok := ids[key]; ok {
			continue
		}
		if req.CreateSources && req.DryRun {
			ids[key] = -int64(len(ids) + 1)
			res.Unknown = append(res.Unknown, l.source)
			continue
		}
		if req.CreateSources {
			s, err := crm.CreateAdSource(tx, l.source)
			if err != nil {
				return nil, err
			}
			if _, err := crm.Audit(tx, &u.ID, "ad_source.create", "ad_source", s.ID, map[string]any{"name": s.Name, "by": "spend.import"}); err != nil {
				return nil, err
			}
			ids[key] = s.ID
			res.Created = append(res.Created, s)
			continue
		}
		if !unknown[key] {
			unknown[key] = true
			res.Unknown = append(res.Unknown, l.source)
		}
		res.Errors = append(res.Errors, LineError{Line: l.line, Code: errUnknownSource, Value: l.source,
			Message: fmt.Sprintf("unknown source %q (create it, or tick \"create unknown sources\")", l.source)})
	}
	sort.Slice(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
	return ids, nil
}

// spendDays sums the file's lines per source, campaign and day; lines of
// one day in two currencies are an error.
func spendDays(lines []spendLine, ids map[string]int64, res *SpendImportResult) []crm.SpendDay {
	type key struct {
		src      int64
		campaign string
		day      time.Time
	}
	idx := map[key]int{}
	var days []crm.SpendDay
	for _, l := range lines {
		src, ok := ids[strings.ToLower(l.source)]
		if !ok {
			continue
		}
		k := key{src, l.campaign, l.day}
		if i, ok := idx[k]; ok {
			if days[i].Currency != l.currency {
				res.Errors = append(res.Errors, LineError{Line: l.line, Code: errTwoCurrencies, Value: days[i].Currency + ", " + l.currency,
					Message: fmt.Sprintf("the same day, source and campaign in %s and %s", days[i].Currency, l.currency)})
				continue
			}
			days[i].Amount += l.amount
		} else {
			idx[k] = len(days)
			days = append(days, crm.SpendDay{AdSourceID: src, Campaign: l.campaign, Day: l.day, Amount: l.amount, Currency: l.currency})
		}
		res.Totals[l.currency] += l.amount
		if d := l.day.Format(time.DateOnly); res.From == "" || d < res.From {
			res.From = d
		}
		if d := l.day.Format(time.DateOnly); d > res.To {
			res.To = d
		}
	}
	res.Days = len(days)
	return days
}
