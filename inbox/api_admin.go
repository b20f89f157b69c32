package inbox

import (
	"context"
	"net/http"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// AccountList is the configured accounts (never their secrets).
type AccountList struct {
	Accounts []crm.Account `json:"accounts"`
}

func (h *api) listAccounts(w http.ResponseWriter, r *http.Request) {
	as, err := crm.ListAccounts(h.app.db.WithContext(r.Context()))
	if as == nil {
		as = []crm.Account{}
	}
	if userOf(r).Role != crm.Owner {
		for i := range as {
			as[i].Settings, as[i].Cursor = []byte("{}"), ""
		}
	}
	respond(h, w, r, AccountList{Accounts: as}, err)
}

func (h *api) getAccount(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var a crm.Account
	if err == nil {
		a, err = crm.GetAccount(h.app.db.WithContext(r.Context()), id)
	}
	if userOf(r).Role != crm.Owner {
		a.Settings, a.Cursor = []byte("{}"), ""
	}
	respond(h, w, r, a, err)
}

// pairingQR is the QR code an account waits to be scanned with, as a PNG.
// Owner only: whoever scans it becomes the account.
func (h *api) pairingQR(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var png []byte
	if err == nil {
		png, err = h.app.accts.PairingQR(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(png)
}

func (h *api) saveAccount(w http.ResponseWriter, r *http.Request, id int64) {
	var in crm.AccountInput
	err := decode(r, &in)
	var a crm.Account
	if err == nil {
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			var err error
			if a, err = crm.SaveAccount(tx, h.app.box, id, in); err != nil {
				return err
			}
			if a.Channel == "web" && !a.HasSecret {
				return crm.Invalid("a web account needs a signing secret (for example: openssl rand -hex 32)")
			}
			action := "account.create"
			if id != 0 {
				action = "account.edit"
			}
			_, err = crm.Audit(tx, &u.ID, action, "account", a.ID, map[string]any{"name": a.Name, "channel": a.Channel, "secret_changed": in.Secret != nil})
			return err
		})
	}
	if err == nil {
		h.app.accts.Reload(a.ID)
	}
	respond(h, w, r, a, err)
}

func (h *api) createAccount(w http.ResponseWriter, r *http.Request) { h.saveAccount(w, r, 0) }

func (h *api) updateAccount(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	h.saveAccount(w, r, id)
}

// EntryPointList is entry points with their binding history.
type EntryPointList struct {
	EntryPoints []crm.EntryPoint `json:"entry_points"`
}

func (h *api) listEntryPoints(w http.ResponseWriter, r *http.Request) {
	eps, err := crm.ListEntryPoints(h.app.db.WithContext(r.Context()), int64(queryInt(r, "account_id")))
	if eps == nil {
		eps = []crm.EntryPoint{}
	}
	respond(h, w, r, EntryPointList{EntryPoints: eps}, err)
}

func (h *api) getEntryPoint(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var e crm.EntryPoint
	if err == nil {
		e, err = crm.GetEntryPoint(h.app.db.WithContext(r.Context()), id)
	}
	respond(h, w, r, e, err)
}

// EntryPointRequest creates an entry point, optionally bound to a source.
type EntryPointRequest struct {
	AccountID  int64  `json:"account_id"`
	Address    string `json:"address"`
	AutoDeal   *bool  `json:"auto_deal"`
	AdSourceID *int64 `json:"ad_source_id"`
}

func (h *api) createEntryPoint(w http.ResponseWriter, r *http.Request) {
	var req EntryPointRequest
	err := decode(r, &req)
	var e crm.EntryPoint
	if err == nil {
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			auto := req.AutoDeal == nil || *req.AutoDeal
			var err error
			if e, err = crm.CreateEntryPoint(tx, req.AccountID, req.Address, auto, req.AdSourceID, &u.ID); err != nil {
				return err
			}
			_, err = crm.Audit(tx, &u.ID, "entry_point.create", "entry_point", e.ID, req)
			return err
		})
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
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			if _, err := crm.GetEntryPoint(tx, id); err != nil {
				return err
			}
			var from time.Time
			if req.ValidFrom != nil {
				from = *req.ValidFrom
			}
			b, err := crm.Bind(tx, id, req.AdSourceID, from, &u.ID)
			if err != nil {
				return err
			}
			if _, err := crm.Audit(tx, &u.ID, "entry_point.bind", "entry_point", id, b); err != nil {
				return err
			}
			e, err = crm.GetEntryPoint(tx, id)
			return err
		})
	}
	respond(h, w, r, e, err)
}

// AdSourceList is the ad sources.
type AdSourceList struct {
	AdSources []crm.AdSource `json:"ad_sources"`
}

func (h *api) listAdSources(w http.ResponseWriter, r *http.Request) {
	s, err := crm.ListAdSources(h.app.db.WithContext(r.Context()))
	if s == nil {
		s = []crm.AdSource{}
	}
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
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			var err error
			if s, err = crm.CreateAdSource(tx, req.Name); err != nil {
				return err
			}
			_, err = crm.Audit(tx, &u.ID, "ad_source.create", "ad_source", s.ID, req)
			return err
		})
	}
	respond(h, w, r, s, err)
}

// SpendList is a source's spend records.
type SpendList struct {
	Spend []crm.Spend `json:"spend"`
}

func (h *api) listSpend(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var out SpendList
	if err == nil {
		tx := h.app.db.WithContext(r.Context())
		if _, err = crm.GetAdSource(tx, id); err == nil {
			out.Spend, err = crm.ListSpend(tx, id)
		}
	}
	if out.Spend == nil {
		out.Spend = []crm.Spend{}
	}
	respond(h, w, r, out, err)
}

// SpendRequest records spend: dates as YYYY-MM-DD (inclusive), amount in
// minor units, currency defaulting to the configured one.
type SpendRequest struct {
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Note        string `json:"note"`
}

func (h *api) addSpend(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req SpendRequest
	if err == nil {
		err = decode(r, &req)
	}
	var sp crm.Spend
	if err == nil {
		from, e1 := time.Parse(time.DateOnly, req.PeriodStart)
		to, e2 := time.Parse(time.DateOnly, req.PeriodEnd)
		if e1 != nil || e2 != nil {
			err = crm.Invalid("period_start and period_end must be dates like 2026-03-01")
		}
		cur := strings.ToUpper(strings.TrimSpace(req.Currency))
		if cur == "" {
			cur = h.app.opts.Currency
		}
		sp = crm.Spend{AdSourceID: id, PeriodStart: from, PeriodEnd: to, Amount: req.Amount, Currency: cur, Note: req.Note}
	}
	if err == nil {
		u := userOf(r).User
		err = h.app.rt.Change(r.Context(), func(tx *gorm.DB, ev *realtime.Events) error {
			if err := crm.AddSpend(tx, &sp); err != nil {
				return err
			}
			_, err := crm.Audit(tx, &u.ID, "spend.add", "ad_source", id, sp)
			return err
		})
	}
	respond(h, w, r, sp, err)
}

// AuditList is a page of the audit trail, newest first.
type AuditList struct {
	Entries []crm.AuditEntry `json:"entries"`
}

// listAudit: ?actor_id= &action= &object_type= &object_id= &before_id= &limit=
func (h *api) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := crm.AuditFilter{Action: q.Get("action"), ObjectType: q.Get("object_type"), Limit: queryInt(r, "limit")}
	var err error
	for _, p := range []struct {
		name string
		to   *int64
	}{{"actor_id", &f.ActorID}, {"object_id", &f.ObjectID}, {"before_id", &f.BeforeID}} {
		if err == nil {
			*p.to, err = queryID(r, p.name)
		}
	}
	var es []crm.AuditEntry
	if err == nil {
		es, err = crm.ListAudit(h.app.db.WithContext(r.Context()), f)
	}
	if es == nil {
		es = []crm.AuditEntry{}
	}
	respond(h, w, r, AuditList{Entries: es}, err)
}

// UserList is the team.
type UserList struct {
	Users []crm.User `json:"users"`
}

func (h *api) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := crm.ListUsers(h.app.db.WithContext(r.Context()))
	respond(h, w, r, UserList{Users: us}, err)
}

// UserRequest creates a user.
type UserRequest struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Role     crm.Role `json:"role"`
	Password string   `json:"password"`
}

func (h *api) createUser(w http.ResponseWriter, r *http.Request) {
	var req UserRequest
	err := decode(r, &req)
	var u crm.User
	if err == nil {
		u, err = h.app.CreateUser(r.Context(), ptr(userOf(r).ID), req.Email, req.Name, req.Role, req.Password)
	}
	respond(h, w, r, u, err)
}

// UserPatch edits a user; nil fields stay as they are.
type UserPatch struct {
	Name      *string   `json:"name"`
	Role      *crm.Role `json:"role"`
	CanExport *bool     `json:"can_export"`
	Active    *bool     `json:"active"`
	Password  *string   `json:"password"`
}

func (h *api) updateUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var p UserPatch
	if err == nil {
		err = decode(r, &p)
	}
	var out crm.User
	if err == nil {
		out, err = h.app.UpdateUser(r.Context(), userOf(r).User, id, p)
	}
	respond(h, w, r, out, err)
}

// UpdateUser edits a user: role, the export right, deactivation, password.
// Deactivation and a new password end the user's sessions. Audited; the
// owner cannot demote or deactivate themselves.
func (a *App) UpdateUser(ctx context.Context, actor crm.User, id int64, p UserPatch) (crm.User, error) {
	var out crm.User
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		u, err := crm.GetUser(tx, id)
		if err != nil {
			return err
		}
		up := map[string]any{"updated_at": time.Now().UTC()}
		if p.Name != nil {
			up["name"] = strings.TrimSpace(*p.Name)
		}
		if p.Role != nil {
			if !p.Role.Valid() {
				return crm.Invalid("role %q is not one of owner, lead, manager", *p.Role)
			}
			if id == actor.ID && *p.Role != crm.Owner {
				return crm.Invalid("you cannot take the owner role from yourself")
			}
			up["role"] = *p.Role
		}
		if p.CanExport != nil {
			up["can_export"] = *p.CanExport
		}
		if p.Active != nil {
			if id == actor.ID && !*p.Active {
				return crm.Invalid("you cannot deactivate yourself")
			}
			up["active"] = *p.Active
			if !*p.Active {
				if err := tx.Where("user_id = ?", id).Delete(&Session{}).Error; err != nil {
					return err
				}
			}
		}
		if p.Password != nil {
			hash, err := HashPassword(*p.Password)
			if err != nil {
				return err
			}
			up["password_hash"] = hash
			// As with SetPassword: a new password ends every session
			// opened with the old one.
			if err := tx.Where("user_id = ?", id).Delete(&Session{}).Error; err != nil {
				return err
			}
		}
		if err := tx.Model(&crm.User{ID: id}).Updates(up).Error; err != nil {
			return err
		}
		delete(up, "password_hash")
		delete(up, "updated_at")
		if p.Password != nil {
			up["password_changed"] = true
		}
		if _, err := crm.Audit(tx, &actor.ID, "user.edit", "user", u.ID, up); err != nil {
			return err
		}
		out, err = crm.GetUser(tx, id)
		return err
	})
	return out, err
}
