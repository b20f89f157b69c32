package crm

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Role is what a user may do.
type Role string

// Roles.
const (
	Owner   Role = "owner"   // everything, the audit trail and the marketing report
	Lead    Role = "lead"    // the team's conversations, assignment, the unassigned queue
	Manager Role = "manager" // own conversations and the unassigned queue
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Owner || r == Lead || r == Manager }

// User is a person who logs in.
type User struct {
	ID           int64  `json:"id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	Role         Role   `json:"role"`
	PasswordHash string `json:"-"`
	CanExport    bool   `json:"can_export"`
	// Extension is the user's phone extension on the company PBX ("" :
	// none): the calls it answers or places are theirs.
	Extension string `json:"extension"`
	// MustChangePassword: the password was generated (the first owner's,
	// or reset by the owner); the user chooses their own at next login.
	MustChangePassword bool      `json:"-"`
	Active             bool      `json:"active"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// CreateUser inserts u; the email must be new. PasswordHash is set by the
// caller (inbox hashes passwords).
func CreateUser(tx *gorm.DB, u *User) error {
	addr, err := mail.ParseAddress(strings.TrimSpace(u.Email))
	if err != nil {
		return Invalid("email %q is not an address", u.Email)
	}
	u.Email = strings.ToLower(addr.Address)
	if !u.Role.Valid() {
		return Invalid("role %q is not one of owner, lead, manager", u.Role)
	}
	if u.Role == Owner {
		u.CanExport = true
	}
	u.Active = true
	if err := tx.Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return Conflict("a user with email %s exists", u.Email)
		}
		return fmt.Errorf("crm: create user: %w", err)
	}
	return nil
}

// GetUser loads a user by id.
func GetUser(tx *gorm.DB, id int64) (User, error) {
	var u User
	if err := tx.Take(&u, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return u, NotFound("user", id)
		}
		return u, fmt.Errorf("crm: get user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail loads a user by email (case-insensitive).
func UserByEmail(tx *gorm.DB, email string) (User, error) {
	var u User
	err := tx.Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, NotFound("user", email)
	}
	return u, err
}

// ListUsers returns all users by id.
func ListUsers(tx *gorm.DB) ([]User, error) {
	var us []User
	return us, tx.Order("id").Find(&us).Error
}

// CountUsers counts users.
func CountUsers(tx *gorm.DB) (int64, error) {
	var n int64
	return n, tx.Model(&User{}).Count(&n).Error
}

// ValidExtension checks a phone extension: empty, or 1 to 10 digits (a
// PBX extension, or a cloud provider's employee number).
func ValidExtension(ext string) error {
	if len(ext) > 10 {
		return Invalid("an extension is at most 10 digits")
	}
	for _, r := range ext {
		if r < '0' || r > '9' {
			return Invalid("an extension is digits only (%q)", ext)
		}
	}
	return nil
}

// UsersByExtension maps the given extensions to their active users.
func UsersByExtension(tx *gorm.DB, exts []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(exts) == 0 {
		return out, nil
	}
	var rows []User
	if err := tx.Select("id", "extension").Where("extension IN ? AND active = ?", exts, true).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("crm: users by extension: %w", err)
	}
	for _, u := range rows {
		out[u.Extension] = u.ID
	}
	return out, nil
}
