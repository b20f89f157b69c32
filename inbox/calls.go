package inbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// DialRequest is a click-to-call: the contact's phone to ring, and
// optionally the phone account to call through.
type DialRequest struct {
	Phone     string `json:"phone"`
	AccountID int64  `json:"account_id"`
}

// DialStarted is a click-to-call the PBX accepted: its progress arrives as
// call.dial events with this id.
type DialStarted struct {
	ID        string `json:"id"`
	AccountID int64  `json:"account_id"`
}

// ErrNoDialer: no phone account can place the call now.
var ErrNoDialer = errors.New("no phone account can place calls")

// CanDial reports whether u can click to call: they have an extension and
// an enabled phone account can place calls.
func (a *App) CanDial(ctx context.Context, u crm.User) bool {
	if u.Extension == "" || a.accts == nil {
		return false
	}
	accs, err := a.phoneAccounts(ctx, 0)
	if err != nil {
		return false
	}
	for _, acc := range accs {
		if d, err := a.accts.Dialer(ctx, acc.ID); err == nil && d.CanDial() {
			return true
		}
	}
	return false
}

// Dial asks the PBX to ring the user's extension and then the contact's
// phone. The user must see the contact, the phone must be the contact's,
// and the user must have an extension. The call itself arrives from the
// PBX like any other, as an outbound call in the contact's conversation.
func (a *App) Dial(ctx context.Context, u crm.User, contactID int64, req DialRequest) (DialStarted, error) {
	var out DialStarted
	if a.accts == nil {
		return out, ErrNoDialer
	}
	u, err := crm.GetUser(a.db.WithContext(ctx), u.ID) // the extension as of now
	if err != nil {
		return out, err
	}
	db := a.db.WithContext(ctx)
	if _, err := crm.VisibleContact(db, u, contactID); err != nil {
		return out, err
	}
	if u.Extension == "" {
		return out, crm.Invalid("you have no phone extension: the owner sets it on the Users page")
	}
	key, err := crm.Normalize(string(crm.PhoneID), req.Phone, a.opts.Region)
	if err != nil {
		return out, err
	}
	var n int64
	if err := db.Model(&crm.Identity{}).Where("contact_id = ? AND kind = ? AND value = ?", contactID, key.Kind, key.Value).Count(&n).Error; err != nil {
		return out, err
	}
	if n == 0 {
		return out, crm.NotFound("phone of contact", key.Value)
	}
	accs, err := a.phoneAccounts(ctx, contactID)
	if err != nil {
		return out, err
	}
	var last error = ErrNoDialer
	for _, acc := range accs {
		if req.AccountID != 0 && acc.ID != req.AccountID {
			continue
		}
		d, err := a.accts.Dialer(ctx, acc.ID)
		if err != nil || !d.CanDial() {
			last = fmt.Errorf("%w: %s: %v", ErrNoDialer, acc.Name, err)
			continue
		}
		out = DialStarted{ID: dialID(), AccountID: acc.ID}
		progress := a.dialProgress(u.ID, contactID, out)
		err = d.Dial(ctx, channels.DialRequest{ID: out.ID, Extension: u.Extension, To: key.Value, Progress: progress})
		if err != nil {
			a.log.Warn("dial: the PBX refused", "account", acc.ID, "user", u.ID, "err", err)
			return DialStarted{}, fmt.Errorf("%w: %v", ErrNoDialer, err)
		}
		a.log.Info("dial: requested", "account", acc.ID, "user", u.ID, "contact", contactID, "dial", out.ID)
		return out, nil
	}
	return DialStarted{}, last
}

// phoneAccounts are the enabled phone accounts, the one the contact last
// called through first.
func (a *App) phoneAccounts(ctx context.Context, contactID int64) ([]crm.Account, error) {
	db := a.db.WithContext(ctx)
	var accs []crm.Account
	if err := db.Where("channel = ? AND enabled = ?", string(channels.Phone), true).Order("id").Find(&accs).Error; err != nil {
		return nil, err
	}
	if contactID == 0 || len(accs) < 2 {
		return accs, nil
	}
	var last crm.Touch
	err := db.Where("contact_id = ? AND kind = ?", contactID, string(channels.Call)).Order("occurred_at DESC").Take(&last).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	for i, acc := range accs {
		if acc.ID == last.AccountID {
			accs[0], accs[i] = accs[i], accs[0]
		}
	}
	return accs, nil
}

// dialProgress publishes a click-to-call's states to the manager calling,
// in order and never back from a final state: the PBX's answer to the
// request and its report of the call come on different goroutines, and
// "ringing" must not follow "connected".
func (a *App) dialProgress(userID, contactID int64, d DialStarted) func(channels.DialProgress) {
	var mu sync.Mutex
	final := false
	return func(p channels.DialProgress) {
		mu.Lock()
		defer mu.Unlock()
		if final {
			return
		}
		final = p.State == channels.DialConnected || p.State == channels.DialFailed
		data := map[string]any{"user_id": userID, "contact_id": contactID, "account_id": d.AccountID, "id": d.ID, "state": p.State}
		if p.Error != "" {
			data["error"] = crm.Clip(p.Error, 300)
		}
		err := a.rt.Change(context.Background(), func(tx *gorm.DB, ev *realtime.Events) error {
			return ev.Add(crm.EventCallDial, nil, nil, data)
		})
		if err != nil {
			a.log.Error("dial: progress event", "dial", d.ID, "err", err)
		}
	}
}

func dialID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "sb-" + hex.EncodeToString(b)
}
