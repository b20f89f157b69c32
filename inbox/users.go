package inbox

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Users is the team.
func (a *App) Users(ctx context.Context) ([]crm.User, error) {
	return crm.ListUsers(a.db.WithContext(ctx))
}

// UserPatch edits a user; nil fields stay as they are.
type UserPatch struct {
	Name      *string   `json:"name"`
	Role      *crm.Role `json:"role"`
	CanExport *bool     `json:"can_export"`
	Active    *bool     `json:"active"`
	Password  *string   `json:"password"`
	// Extension is the user's phone extension ("" : none).
	Extension *string `json:"extension"`
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
		if p.Extension != nil {
			ext := strings.TrimSpace(*p.Extension)
			if err := crm.ValidExtension(ext); err != nil {
				return err
			}
			if ext != "" {
				taken, err := crm.UsersByExtension(tx, []string{ext})
				if err != nil {
					return err
				}
				if other, ok := taken[ext]; ok && other != id {
					return crm.Conflict("extension %s is another user's", ext)
				}
			}
			up["extension"] = ext
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
				if err := crm.EndSessions(tx, id); err != nil {
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
			// A password the owner chose for someone else is theirs to
			// replace at the next login.
			up["must_change_password"] = id != actor.ID
			// As with SetPassword: a new password ends every session
			// opened with the old one.
			if err := crm.EndSessions(tx, id); err != nil {
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

// ResetPassword gives a user a new generated password, returned once for
// the owner to pass on: their sessions end, and they choose their own at
// the next login. Audited (without the password).
func (a *App) ResetPassword(ctx context.Context, actor crm.User, id int64) (string, error) {
	pw := RandomPassword()
	hash, err := HashPassword(pw)
	if err != nil {
		return "", err
	}
	err = a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := crm.GetUser(tx, id)
		if err != nil {
			return err
		}
		if err := crm.SetGeneratedPassword(tx, u.ID, hash); err != nil {
			return err
		}
		if err := crm.EndSessions(tx, u.ID); err != nil {
			return err
		}
		_, err = crm.Audit(tx, &actor.ID, "user.password", "user", u.ID, map[string]any{"email": u.Email, "reset": true})
		return err
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}
