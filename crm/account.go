package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Account is one configured connection on a channel: a mailbox, a bot, a
// WhatsApp session, a PBX, a web endpoint. Settings hold no secrets; the
// secret (password, token, signing key) is sealed and never leaves the
// server through the API.
type Account struct {
	ID            int64           `json:"id"`
	Channel       string          `json:"channel"`
	Name          string          `json:"name"`
	Settings      json.RawMessage `json:"settings" gorm:"type:text;serializer:json"`
	Secret        string          `json:"-"`
	HasSecret     bool            `json:"has_secret" gorm:"-"`
	DefaultSource string          `json:"default_source"`
	// Region is the phone region of the account's clients (ISO 3166
	// alpha-2; "" : the server's SWITCHBOARD_REGION): "8 029 …" on a
	// Belarusian account is +375 29 ….
	Region    string    `json:"region"`
	Enabled   bool      `json:"enabled"`
	Cursor    string    `json:"cursor"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AfterFind fills HasSecret.
func (a *Account) AfterFind(*gorm.DB) error {
	a.HasSecret = a.Secret != ""
	return nil
}

var channelNames = map[string]bool{"phone": true, "email": true, "telegram": true, "whatsapp": true, "web": true}

// AccountInput creates or edits an account; nil fields stay as they are.
type AccountInput struct {
	Channel       string          `json:"channel"`
	Name          *string         `json:"name"`
	Settings      json.RawMessage `json:"settings"`
	Secret        *string         `json:"secret"`
	DefaultSource *string         `json:"default_source"`
	// Region is the phone region ("" : the server's); see Account.
	Region  *string `json:"region"`
	Enabled *bool   `json:"enabled"`
}

// SaveAccount creates (id 0) or updates an account, sealing the secret.
func SaveAccount(tx *gorm.DB, box *SecretBox, id int64, in AccountInput) (Account, error) {
	var a Account
	if id != 0 {
		var err error
		if a, err = GetAccount(tx, id); err != nil {
			return a, err
		}
	} else {
		if !channelNames[in.Channel] {
			return a, Invalid("channel %q is not one of phone, email, telegram, whatsapp, web", in.Channel)
		}
		a = Account{Channel: in.Channel, Enabled: true, Settings: json.RawMessage("{}")}
	}
	if in.Name != nil {
		a.Name = strings.TrimSpace(*in.Name)
	}
	if a.Name == "" {
		return a, Invalid("account name is required")
	}
	// Absent or null settings stay as they are; null must not reach the
	// NOT NULL column.
	if s := bytes.TrimSpace(in.Settings); len(s) > 0 && string(s) != "null" {
		var m map[string]any
		if err := json.Unmarshal(s, &m); err != nil || m == nil {
			return a, Invalid("settings must be a JSON object")
		}
		a.Settings = json.RawMessage(s)
	}
	if in.Secret != nil {
		s, err := box.Seal(*in.Secret)
		if err != nil {
			return a, err
		}
		a.Secret = s
	}
	if in.DefaultSource != nil {
		a.DefaultSource = strings.TrimSpace(*in.DefaultSource)
	}
	if in.Region != nil {
		r, err := CheckRegion(*in.Region)
		if err != nil {
			return a, err
		}
		a.Region = r
	}
	if in.Enabled != nil {
		a.Enabled = *in.Enabled
	}
	if err := tx.Save(&a).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return a, Conflict("an account named %q exists", a.Name)
		}
		return a, fmt.Errorf("crm: save account: %w", err)
	}
	a.HasSecret = a.Secret != ""
	return a, nil
}

// GetAccount loads an account.
func GetAccount(tx *gorm.DB, id int64) (Account, error) {
	var a Account
	if err := tx.Take(&a, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return a, NotFound("account", id)
		}
		return a, fmt.Errorf("crm: get account %d: %w", id, err)
	}
	return a, nil
}

// ListAccounts returns all accounts.
func ListAccounts(tx *gorm.DB) ([]Account, error) {
	var as []Account
	return as, tx.Order("id").Find(&as).Error
}

// SetCursor stores an account's channel position (in the ingest transaction).
func SetCursor(tx *gorm.DB, accountID int64, cursor string) error {
	return tx.Model(&Account{ID: accountID}).UpdateColumn("cursor", cursor).Error
}

// SaveAccountState records the state the replica running an account last
// reported (any JSON value: a channels.State), for the other replicas.
func SaveAccountState(tx *gorm.DB, accountID int64, state any) error {
	raw, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("crm: account %d state: %w", accountID, err)
	}
	err = tx.Exec(`INSERT INTO account_states (account_id, state, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
		accountID, string(raw), time.Now().UTC()).Error
	if err != nil {
		return fmt.Errorf("crm: account %d state: %w", accountID, err)
	}
	return nil
}

// AccountStates returns the recorded states of the accounts in ids.
func AccountStates(tx *gorm.DB, ids []int64) (map[int64]json.RawMessage, error) {
	var rows []struct {
		AccountID int64
		State     string
	}
	if err := tx.Raw("SELECT account_id, state FROM account_states WHERE account_id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("crm: account states: %w", err)
	}
	out := make(map[int64]json.RawMessage, len(rows))
	for _, r := range rows {
		out[r.AccountID] = json.RawMessage(r.State)
	}
	return out, nil
}
