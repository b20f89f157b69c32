package api

import (
	"context"
	"net/http"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// respond writes v, or the error.
func respond[T any](h *api, w http.ResponseWriter, r *http.Request, v T, err error) {
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// byIDWithBody answers a route that names its object by {id} and carries a
// JSON body: it reads both, calls fn as the caller, and writes what fn
// returns, or the error.
func byIDWithBody[Req, Out any](h *api, w http.ResponseWriter, r *http.Request, fn func(context.Context, crm.User, int64, Req) (Out, error)) {
	id, err := pathID(r, "id")
	var req Req
	if err == nil {
		err = decode(r, &req)
	}
	var out Out
	if err == nil {
		out, err = fn(r.Context(), userOf(r).User, id, req)
	}
	respond(h, w, r, out, err)
}

// Pipeline is the ordered list of stages.
type Pipeline struct {
	Stages []crm.Stage `json:"stages"`
}

func (h *api) getPipeline(w http.ResponseWriter, r *http.Request) {
	st, err := h.app.Pipeline(r.Context())
	respond(h, w, r, Pipeline{Stages: st}, err)
}

func (h *api) setPipeline(w http.ResponseWriter, r *http.Request) {
	var req Pipeline
	err := decode(r, &req)
	var out Pipeline
	if err == nil {
		out.Stages, err = h.app.SetPipeline(r.Context(), userOf(r).User, req.Stages)
	}
	respond(h, w, r, out, err)
}

// listDeals: ?status= &responsible_id= &source=<id>|none &stage_id=
// &created_from= &created_to= &closed_from= &closed_to= (days) &contact_id=
// &mine=1 &cursor= &limit=
func (h *api) listDeals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := inbox.DealsRequest{Status: q.Get("status"), Source: q.Get("source"), CreatedFrom: q.Get("created_from"), CreatedTo: q.Get("created_to"),
		ClosedFrom: q.Get("closed_from"), ClosedTo: q.Get("closed_to"), Cursor: q.Get("cursor"), Limit: queryInt(r, "limit"), Mine: q.Get("mine") == "1"}
	var err error
	for _, p := range []struct {
		name string
		to   *int64
	}{{"contact_id", &req.ContactID}, {"responsible_id", &req.ResponsibleID}, {"stage_id", &req.StageID}} {
		if err == nil {
			*p.to, err = queryID(r, p.name)
		}
	}
	var page crm.DealPage
	if err == nil {
		page, err = h.app.Deals(r.Context(), userOf(r).User, req)
	}
	respond(h, w, r, page, err)
}

func (h *api) dealTouches(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var d inbox.DealPage
	if err == nil {
		d, err = h.app.DealWithTouches(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, d, err)
}

func (h *api) createDeal(w http.ResponseWriter, r *http.Request) {
	var req inbox.NewDeal
	err := decode(r, &req)
	var d crm.Deal
	if err == nil {
		d, err = h.app.CreateDeal(r.Context(), userOf(r).User, req)
	}
	respond(h, w, r, d, err)
}

func (h *api) getDeal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var d crm.Deal
	if err == nil {
		d, err = h.app.Deal(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, d, err)
}

func (h *api) updateDeal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var p crm.DealPatch
	if err == nil {
		err = decode(r, &p)
	}
	var d crm.Deal
	if err == nil {
		d, err = h.app.UpdateDeal(r.Context(), userOf(r).User, id, p)
	}
	respond(h, w, r, d, err)
}

// StageRequest moves a deal to an open stage.
type StageRequest struct {
	StageID int64 `json:"stage_id"`
}

func (h *api) moveDeal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req StageRequest
	if err == nil {
		err = decode(r, &req)
	}
	var d crm.Deal
	if err == nil {
		d, err = h.app.MoveDeal(r.Context(), userOf(r).User, id, req.StageID)
	}
	respond(h, w, r, d, err)
}

// WonRequest closes a deal as won for an amount in minor units.
type WonRequest struct {
	Amount int64 `json:"amount"`
}

func (h *api) winDeal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req WonRequest
	if err == nil {
		err = decode(r, &req)
	}
	var d crm.Deal
	if err == nil {
		d, err = h.app.WinDeal(r.Context(), userOf(r).User, id, req.Amount)
	}
	respond(h, w, r, d, err)
}

// LostRequest closes a deal as lost with a reason.
type LostRequest struct {
	Reason string `json:"reason"`
}

func (h *api) loseDeal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req LostRequest
	if err == nil {
		err = decode(r, &req)
	}
	var d crm.Deal
	if err == nil {
		d, err = h.app.LoseDeal(r.Context(), userOf(r).User, id, req.Reason)
	}
	respond(h, w, r, d, err)
}
