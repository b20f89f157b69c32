package inbox

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/report"
)

// ReportRequest is the owner's report as asked: dates YYYY-MM-DD
// (inclusive, in the company's time zone), group, model and basis (empty:
// source, first, cohort).
type ReportRequest struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Group string `json:"group"`
	Model string `json:"model"`
	Basis string `json:"basis"`
}

func (a *App) reportQuery(u crm.User, r ReportRequest) (report.Query, error) {
	if u.Role != crm.Owner {
		return report.Query{}, fmt.Errorf("%w: the report is the owner's", crm.ErrForbidden)
	}
	from, e1 := time.Parse(time.DateOnly, r.From)
	to, e2 := time.Parse(time.DateOnly, r.To)
	if e1 != nil || e2 != nil {
		return report.Query{}, crm.Invalid("from and to must be dates like 2026-03-01")
	}
	q := report.Query{From: from, To: to, Loc: a.opts.TimeZone, Group: report.Group(r.Group), Model: report.Model(r.Model),
		Basis: report.Basis(r.Basis), Currency: a.opts.Currency}
	if err := q.Check(); err != nil {
		return q, crm.Invalid("%v", err)
	}
	return q, nil
}

// Report is the spend-versus-earned report per ad source. Owner only.
func (a *App) Report(ctx context.Context, u crm.User, r ReportRequest) (report.Report, error) {
	q, err := a.reportQuery(u, r)
	if err != nil {
		return report.Report{}, err
	}
	return report.Run(a.db.WithContext(ctx), q)
}

// ExportReport is Report for a CSV download; the export is audited first
// (remote: the client's address).
func (a *App) ExportReport(ctx context.Context, u crm.User, r ReportRequest, remote string) (report.Report, error) {
	q, err := a.reportQuery(u, r)
	if err != nil {
		return report.Report{}, err
	}
	tx := a.db.WithContext(ctx)
	if err := tx.Transaction(func(tx *gorm.DB) error {
		_, err := crm.Audit(tx, &u.ID, "report.export", "report", 0, map[string]any{"request": r, "remote": remote})
		return err
	}); err != nil {
		return report.Report{}, err
	}
	return report.Run(tx, q)
}

// ReportCell names a figure of the report: the row (source id, "none" for
// the no-source row, "total"; sub: its channel, entry point id or
// campaign) and the metric (leads, deals, won, lost).
type ReportCell struct {
	Source string
	Sub    string
	Metric string
}

// ReportItems are the contacts or deals behind a figure.
type ReportItems struct {
	Metric string `json:"metric"`
	// Total is how many are behind the figure; at most maxItems are listed.
	Total    int           `json:"total"`
	Contacts []crm.Contact `json:"contacts"`
	Deals    []crm.Deal    `json:"deals"`
}

// maxItems bounds the list behind one figure.
const maxItems = 1000

// ReportItems lists the contacts (leads) or deals (deals, won, lost)
// counted in a figure of the report. Owner only.
func (a *App) ReportItems(ctx context.Context, u crm.User, r ReportRequest, c ReportCell) (ReportItems, error) {
	out := ReportItems{Metric: c.Metric, Contacts: []crm.Contact{}, Deals: []crm.Deal{}}
	q, err := a.reportQuery(u, r)
	if err != nil {
		return out, err
	}
	cell := report.Cell{Sub: c.Sub, Metric: c.Metric}
	switch c.Source {
	case "total":
		cell.Total = true
	case "none":
	default:
		id, err := strconv.ParseInt(c.Source, 10, 64)
		if err != nil {
			return out, crm.Invalid("source must be a source id, none or total, not %q", c.Source)
		}
		cell.SourceID = &id
	}
	tx := a.db.WithContext(ctx)
	items, err := report.CellItems(tx, q, cell)
	if err != nil {
		return out, err
	}
	out.Total = len(items.Contacts) + len(items.Deals)
	if n := len(items.Contacts); n > 0 {
		ids := items.Contacts[:min(n, maxItems)]
		if out.Contacts, err = report.Contacts(tx, ids); err != nil {
			return out, err
		}
	}
	if n := len(items.Deals); n > 0 {
		ids := items.Deals[:min(n, maxItems)]
		if out.Deals, err = report.Deals(tx, ids); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Funnel is the funnel per source for the period. Owner only.
func (a *App) Funnel(ctx context.Context, u crm.User, r ReportRequest) (report.Funnels, error) {
	q, err := a.reportQuery(u, r)
	if err != nil {
		return report.Funnels{}, err
	}
	return report.RunFunnel(a.db.WithContext(ctx), q)
}
