package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/report"
	"github.com/switchboard/switchboard/inbox"
)

// The owner's report, its figures' contents and its CSV; spend days and
// their CSV import.

func reportRequest(r *http.Request) inbox.ReportRequest {
	q := r.URL.Query()
	return inbox.ReportRequest{From: q.Get("from"), To: q.Get("to"), Group: q.Get("group"), Model: q.Get("model"), Basis: q.Get("basis")}
}

func (h *api) sourcesReport(w http.ResponseWriter, r *http.Request) {
	rep, err := h.app.Report(r.Context(), userOf(r).User, reportRequest(r))
	respond(h, w, r, rep, err)
}

// reportItems answers the contacts or deals behind a figure:
// ?source=<id>|none|total&sub=<channel, entry point id or campaign>&metric=leads|deals|won|lost
// beside the report's own parameters.
func (h *api) reportItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	items, err := h.app.ReportItems(r.Context(), userOf(r).User, reportRequest(r),
		inbox.ReportCell{Source: q.Get("source"), Sub: q.Get("sub"), Metric: q.Get("metric")})
	respond(h, w, r, items, err)
}

// exportReport writes the report's table as CSV: money in major units
// with a decimal point, ratios as fractions, empty for null. Audited.
func (h *api) exportReport(w http.ResponseWriter, r *http.Request) {
	req := reportRequest(r)
	rep, err := h.app.ExportReport(r.Context(), userOf(r).User, req, clientIP(r, h.opts.TrustedProxies))
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	d := excelDialect(r)
	cw := d.start(w, fmt.Sprintf("report-%s-%s.csv", rep.From, rep.To),
		"source_id", "source", "group", "vat_included", "currency", "spend", "touches", "calls", "missed_calls", "leads", "deals", "won", "lost",
		"revenue", "profit", "cpl", "cac", "romi", "conv_lead_deal", "conv_deal_won")
	minor := func(v *int64) string {
		if v == nil {
			return ""
		}
		return d.money(*v)
	}
	fraction := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strings.Replace(strconv.FormatFloat(*v, 'f', 4, 64), ".", d.decimal, 1)
	}
	rows := append(append(rep.Rows, rep.NoSource), rep.Total)
	for i, row := range rows {
		id, name := "", csvSafe(row.Source)
		switch {
		case i == len(rows)-1:
			id, name = "total", "total"
		case i == len(rows)-2:
			id, name = "none", "no source"
		case row.SourceID != nil:
			id = strconv.FormatInt(*row.SourceID, 10)
		}
		cw.Write([]string{id, name, csvSafe(groupValue(row)), strconv.FormatBool(row.VATIncluded), rep.Currency, minor(row.Spend),
			itoa(row.Touches), itoa(row.Calls), itoa(row.MissedCalls), itoa(row.Leads), itoa(row.Deals), itoa(row.Won), itoa(row.Lost),
			minor(&row.Revenue), minor(row.Profit), minor(row.CPL), minor(row.CAC), fraction(row.ROMI), fraction(row.ConvLeadDeal), fraction(row.ConvDealWon)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.log.Error("report export cut short", "user", userOf(r).ID, "err", err)
	}
}

func groupValue(row report.Row) string {
	switch {
	case row.Channel != nil:
		return *row.Channel
	case row.EntryPoint != nil:
		return *row.EntryPoint
	case row.Campaign != nil:
		return *row.Campaign
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// SpendDayList is spend days.
type SpendDayList struct {
	SpendDays []crm.SpendDay `json:"spend_days"`
}

func (h *api) listSpendDays(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	days, err := h.app.SpendDays(r.Context(), int64(queryInt(r, "ad_source_id")), q.Get("from"), q.Get("to"))
	if days == nil {
		days = []crm.SpendDay{}
	}
	respond(h, w, r, SpendDayList{SpendDays: days}, err)
}

// maxImportBody bounds a spend CSV import (the CSV travels inside JSON).
const maxImportBody = 8 << 20

func (h *api) importSpend(w http.ResponseWriter, r *http.Request) {
	var req inbox.SpendImport
	err := decodeN(r, &req, maxImportBody)
	var res inbox.SpendImportResult
	if err == nil {
		res, err = h.app.ImportSpend(r.Context(), userOf(r).User, req)
	}
	respond(h, w, r, res, err)
}

func (h *api) updateAdSource(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req inbox.SourcePatch
	if err == nil {
		err = decode(r, &req)
	}
	var s crm.AdSource
	if err == nil {
		s, err = h.app.UpdateAdSource(r.Context(), userOf(r).User, id, req)
	}
	respond(h, w, r, s, err)
}

func (h *api) funnelReport(w http.ResponseWriter, r *http.Request) {
	f, err := h.app.Funnel(r.Context(), userOf(r).User, reportRequest(r))
	respond(h, w, r, f, err)
}
