package api

import (
	"net/http"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// EntryPointList is entry points with their binding history.
type EntryPointList struct {
	EntryPoints []crm.EntryPoint `json:"entry_points"`
}

func (h *api) listEntryPoints(w http.ResponseWriter, r *http.Request) {
	eps, err := h.app.EntryPoints(r.Context(), int64(queryInt(r, "account_id")))
	respond(h, w, r, EntryPointList{EntryPoints: eps}, err)
}

func (h *api) getEntryPoint(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var e crm.EntryPoint
	if err == nil {
		e, err = h.app.EntryPoint(r.Context(), id)
	}
	respond(h, w, r, e, err)
}

func (h *api) createEntryPoint(w http.ResponseWriter, r *http.Request) {
	var req inbox.NewEntryPoint
	err := decode(r, &req)
	var e crm.EntryPoint
	if err == nil {
		e, err = h.app.CreateEntryPoint(r.Context(), userOf(r).User, req)
	}
	respond(h, w, r, e, err)
}

// BindRequest moves an entry point to an ad source (null: none) from a
// time on (absent: from the beginning).
type BindRequest struct {
	AdSourceID *int64     `json:"ad_source_id"`
	ValidFrom  *time.Time `json:"valid_from"`
}

func (h *api) bindEntryPoint(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req BindRequest
	if err == nil {
		err = decode(r, &req)
	}
	var e crm.EntryPoint
	if err == nil {
		var from time.Time
		if req.ValidFrom != nil {
			from = *req.ValidFrom
		}
		e, err = h.app.BindEntryPoint(r.Context(), userOf(r).User, id, req.AdSourceID, from)
	}
	respond(h, w, r, e, err)
}

// AdSourceList is the ad sources.
type AdSourceList struct {
	AdSources []crm.AdSource `json:"ad_sources"`
}

func (h *api) listAdSources(w http.ResponseWriter, r *http.Request) {
	s, err := h.app.AdSources(r.Context())
	respond(h, w, r, AdSourceList{AdSources: s}, err)
}

// AdSourceRequest names a new ad source.
type AdSourceRequest struct {
	Name string `json:"name"`
}

func (h *api) createAdSource(w http.ResponseWriter, r *http.Request) {
	var req AdSourceRequest
	err := decode(r, &req)
	var s crm.AdSource
	if err == nil {
		s, err = h.app.CreateAdSource(r.Context(), userOf(r).User, req.Name)
	}
	respond(h, w, r, s, err)
}

// SpendList is a source's spend records.
type SpendList struct {
	Spend []crm.Spend `json:"spend"`
}

func (h *api) listSpend(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	out := SpendList{Spend: []crm.Spend{}}
	if err == nil {
		out.Spend, err = h.app.Spend(r.Context(), id)
	}
	respond(h, w, r, out, err)
}

func (h *api) addSpend(w http.ResponseWriter, r *http.Request) {
	byIDWithBody(h, w, r, h.app.AddSpend)
}

// replaceSpend corrects a spend entry (its source stays).
func (h *api) replaceSpend(w http.ResponseWriter, r *http.Request) {
	byIDWithBody(h, w, r, h.app.ReplaceSpend)
}

// deleteSpend removes a spend entry; the reply is what it was.
func (h *api) deleteSpend(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var sp crm.Spend
	if err == nil {
		sp, err = h.app.DeleteSpend(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, sp, err)
}

// updateEntryPoint edits an entry point (whether it opens deals).
func (h *api) updateEntryPoint(w http.ResponseWriter, r *http.Request) {
	byIDWithBody(h, w, r, h.app.UpdateEntryPoint)
}
