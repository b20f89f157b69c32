package inbox

import (
	"net/http"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// respond writes v, or the error.
func respond[T any](h *api, w http.ResponseWriter, r *http.Request, v T, err error) {
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// Pipeline is the ordered list of stages.
type Pipeline struct {
	Stages []crm.Stage `json:"stages"`
}

func (h *api) getPipeline(w http.ResponseWriter, r *http.Request) {
	st, err := crm.Stages(h.app.db.WithContext(r.Context()))
	respond(h, w, r, Pipeline{Stages: st}, err)
}

func (h *api) setPipeline(w http.ResponseWriter, r *http.Request) {
	var req Pipeline
	err := decode(r, &req)
	var out Pipeline
	if err == nil {
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			var err error
			if out.Stages, err = crm.SetPipeline(tx, req.Stages); err != nil {
				return err
			}
			_, err = crm.Audit(tx, &u.ID, "pipeline.set", "pipeline", 0, out.Stages)
			return err
		})
	}
	respond(h, w, r, out, err)
}

// DealList is a list of deals.
type DealList struct {
	Deals []crm.Deal `json:"deals"`
}

// listDeals: ?contact_id= &status= &mine=1
func (h *api) listDeals(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	f := crm.DealFilter{ContactID: int64(queryInt(r, "contact_id")), Status: crm.DealStatus(r.URL.Query().Get("status")), Limit: queryInt(r, "limit")}
	if r.URL.Query().Get("mine") == "1" || u.Role == crm.Manager {
		f.ResponsibleID = u.ID
	}
	tx := h.app.db.WithContext(r.Context())
	if u.Role == crm.Manager && f.ContactID != 0 {
		if _, err := crm.VisibleContact(tx, u.User, f.ContactID); err != nil {
			writeError(w, r, h.app.log, err)
			return
		}
		f.ResponsibleID = 0
	}
	ds, err := crm.ListDeals(tx, f)
	if ds == nil {
		ds = []crm.Deal{}
	}
	respond(h, w, r, DealList{Deals: ds}, err)
}

// CreateDealRequest opens a deal for a contact.
type CreateDealRequest struct {
	ContactID  int64  `json:"contact_id"`
	Title      string `json:"title"`
	Amount     int64  `json:"amount"`
	AdSourceID *int64 `json:"ad_source_id"`
}

func (h *api) createDeal(w http.ResponseWriter, r *http.Request) {
	var req CreateDealRequest
	err := decode(r, &req)
	var d crm.Deal
	if err == nil {
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			c, err := crm.VisibleContact(tx, u, req.ContactID)
			if err != nil {
				return err
			}
			if req.Amount < 0 {
				return crm.Invalid("amount must not be negative")
			}
			d = crm.Deal{ContactID: c.ID, Title: req.Title, Amount: req.Amount, Currency: h.app.opts.Currency, AdSourceID: req.AdSourceID, ResponsibleID: &u.ID}
			if err := crm.OpenDeal(tx, &d); err != nil {
				return err
			}
			if _, err := crm.Audit(tx, &u.ID, "deal.open", "deal", d.ID, map[string]any{"contact_id": c.ID}); err != nil {
				return err
			}
			return ev.Add(crm.EventDealChanged, nil, nil, d)
		})
	}
	respond(h, w, r, d, err)
}

func (h *api) getDeal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var d crm.Deal
	if err == nil {
		d, err = crm.VisibleDeal(h.app.db.WithContext(r.Context()), userOf(r).User, id)
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
		d, err = h.app.dealChange(r.Context(), userOf(r).User, id, "deal.edit", func(tx *gorm.DB) (crm.Deal, error) { return crm.UpdateDeal(tx, id, p) })
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
		d, err = h.app.dealChange(r.Context(), userOf(r).User, id, "deal.stage", func(tx *gorm.DB) (crm.Deal, error) { return crm.MoveDeal(tx, id, req.StageID) })
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
		d, err = h.app.dealChange(r.Context(), userOf(r).User, id, "deal.won", func(tx *gorm.DB) (crm.Deal, error) { return crm.WinDeal(tx, id, req.Amount) })
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
		d, err = h.app.dealChange(r.Context(), userOf(r).User, id, "deal.lost", func(tx *gorm.DB) (crm.Deal, error) { return crm.LoseDeal(tx, id, req.Reason) })
	}
	respond(h, w, r, d, err)
}

func (h *api) getTouch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var t crm.Touch
	if err == nil {
		t, err = crm.VisibleTouch(h.app.db.WithContext(r.Context()), userOf(r).User, id)
	}
	respond(h, w, r, t, err)
}

// LinkRequest ties a touch to a deal.
type LinkRequest struct {
	DealID int64 `json:"deal_id"`
}

func (h *api) linkTouch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req LinkRequest
	if err == nil {
		err = decode(r, &req)
	}
	var t crm.Touch
	if err == nil {
		t, err = h.app.LinkTouch(r.Context(), userOf(r).User, id, req.DealID)
	}
	respond(h, w, r, t, err)
}

// NewDealResponse is the deal opened from a touch and the linked touch.
type NewDealResponse struct {
	Deal  crm.Deal  `json:"deal"`
	Touch crm.Touch `json:"touch"`
}

func (h *api) newDealForTouch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var out NewDealResponse
	if err == nil {
		out.Deal, out.Touch, err = h.app.OpenDealForTouch(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, out, err)
}

// NotASaleRequest says why a touch is not a sale.
type NotASaleRequest struct {
	Reason string `json:"reason"`
}

func (h *api) notASale(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req NotASaleRequest
	if err == nil {
		err = decode(r, &req)
	}
	var t crm.Touch
	if err == nil {
		t, err = h.app.MarkNotASale(r.Context(), userOf(r).User, id, req.Reason)
	}
	respond(h, w, r, t, err)
}
