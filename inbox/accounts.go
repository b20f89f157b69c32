package inbox

import (
	"context"

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
		_, err = crm.Audit(tx, &u.ID, action, "account", acc.ID, map[string]any{"name": acc.Name, "channel": acc.Channel, "secret_changed": in.Secret != nil})
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
