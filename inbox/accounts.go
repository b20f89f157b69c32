package inbox

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Accounts lists the configured accounts (never their secrets); only the
// owner gets their settings and cursors.
func (a *App) Accounts(ctx context.Context, u crm.User) ([]crm.Account, error) {
	as, err := crm.ListAccounts(a.db.WithContext(ctx))
	if as == nil {
		as = []crm.Account{}
	}
	for i := range as {
		scrub(u, &as[i])
	}
	return as, err
}

// Account is one account (its settings for the owner only).
func (a *App) Account(ctx context.Context, u crm.User, id int64) (crm.Account, error) {
	acc, err := crm.GetAccount(a.db.WithContext(ctx), id)
	scrub(u, &acc)
	return acc, err
}

func scrub(u crm.User, acc *crm.Account) {
	if u.Role != crm.Owner {
		acc.Settings, acc.Cursor = []byte("{}"), ""
	}
}

// SaveAccount creates (id 0) or edits an account, audited, and restarts it.
func (a *App) SaveAccount(ctx context.Context, u crm.User, id int64, in crm.AccountInput) (crm.Account, error) {
	var acc crm.Account
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		var err error
		if acc, err = crm.SaveAccount(tx, a.box, id, in); err != nil {
			return err
		}
		if ch, ok := a.opts.Channels.Get(channels.Kind(acc.Channel)); ok && ch.Check != nil && (id == 0 || in.Settings != nil) {
			if err := ch.Check(acc.Settings); err != nil {
				return crm.Invalid("settings: %v", err)
			}
		}
		if acc.Channel == string(channels.Web) && !acc.HasSecret {
			return crm.Invalid("a web account needs a signing secret (for example: openssl rand -hex 32)")
		}
		action := "account.create"
		if id != 0 {
			action = "account.edit"
		}
		_, err = crm.Audit(tx, &u.ID, action, "account", acc.ID, map[string]any{"name": acc.Name, "channel": acc.Channel, "region": acc.Region, "secret_changed": in.Secret != nil})
		return err
	})
	if err == nil && a.accts != nil {
		a.accts.Reload(acc.ID)
	}
	return acc, err
}

// AccountStates is the live state of every account, whichever replica
// runs it.
func (a *App) AccountStates(ctx context.Context) (map[int64]channels.State, error) {
	as, err := crm.ListAccounts(a.db.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(as))
	for i, acc := range as {
		ids[i] = acc.ID
	}
	if a.accts == nil {
		return map[int64]channels.State{}, nil
	}
	return a.accts.States(ctx, ids)
}

// AccountTest is the account to test: a new one as the form has it, or a
// stored one (ID) with the form's changes; a secret left out is the
// stored one.
type AccountTest struct {
	ID int64 `json:"id"`
	crm.AccountInput
}

// AccountTestResult says whether the account connects: what it reached,
// or the server's error.
type AccountTestResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// TestAccount connects with the account's settings and secret and logs in,
// consuming nothing, so that the owner learns a wrong password or host
// before saving (channels.Tester). Settings the channel refuses are 422;
// a connection that fails is a result, not an error.
func (a *App) TestAccount(ctx context.Context, in AccountTest) (AccountTestResult, error) {
	acc := channels.Account{ID: in.ID, Channel: channels.Kind(in.Channel), Settings: in.Settings}
	if in.ID != 0 {
		stored, err := crm.GetAccount(a.db.WithContext(ctx), in.ID)
		if err != nil {
			return AccountTestResult{}, err
		}
		secret, err := a.box.Open(stored.Secret)
		if err != nil {
			return AccountTestResult{}, err
		}
		acc.Channel, acc.Secret = channels.Kind(stored.Channel), secret
		if len(in.Settings) == 0 {
			acc.Settings = stored.Settings
		}
	}
	if in.Secret != nil {
		acc.Secret = *in.Secret
	}
	ch, ok := a.opts.Channels.Get(acc.Channel)
	if !ok || ch.New == nil {
		return AccountTestResult{}, crm.Invalid("this build has no adapter for channel %q", acc.Channel)
	}
	if ch.Check != nil {
		if err := ch.Check(acc.Settings); err != nil {
			return AccountTestResult{}, crm.Invalid("settings: %v", err)
		}
	}
	ad, err := ch.New(acc, a.log)
	if err != nil {
		return AccountTestResult{Message: err.Error()}, nil
	}
	t, ok := ad.(channels.Tester)
	if !ok {
		return AccountTestResult{OK: true, Message: "nothing to connect to: this account receives through its webhook"}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg, err := t.Test(ctx)
	if err != nil {
		a.log.Info("account test failed", "account", in.ID, "channel", acc.Channel, "err", err)
		return AccountTestResult{Message: err.Error()}, nil
	}
	return AccountTestResult{OK: true, Message: msg}, nil
}

// UnlinkAccount logs out the device the account is linked as (a WhatsApp
// number), so that it must be paired again. Audited.
func (a *App) UnlinkAccount(ctx context.Context, u crm.User, id int64) error {
	acc, err := crm.GetAccount(a.db.WithContext(ctx), id)
	if err != nil {
		return err
	}
	if a.accts == nil {
		return crm.NotFound("linked device of account", id)
	}
	if err := a.accts.Unlink(ctx, id); err != nil {
		return err
	}
	_, err = crm.Audit(a.db.WithContext(ctx), &u.ID, "account.unlink", "account", id, map[string]any{"name": acc.Name, "channel": acc.Channel})
	return err
}
