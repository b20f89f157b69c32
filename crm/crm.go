// Package crm is Switchboard's data model: contacts and their identities,
// deals in a pipeline, accounts and entry points bound to ad sources, spend,
// conversations, touches and the hash-chained audit trail. Storage goes
// through GORM on SQLite or PostgreSQL; the schema comes from package
// migrations. Functions take the *gorm.DB (often a transaction) to use, so
// the application decides transaction boundaries.
package crm

import (
	"errors"
	"fmt"
)

// Error kinds returned by crm (and by inbox), tested with errors.Is. The
// HTTP layer maps each to one status.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrInvalid   = errors.New("invalid")
	ErrForbidden = errors.New("forbidden")
)

// Invalid wraps ErrInvalid with a message a user can act on.
func Invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// NotFound wraps ErrNotFound naming what was not found.
func NotFound(what string, id any) error {
	return fmt.Errorf("%w: %s %v", ErrNotFound, what, id)
}

// Conflict wraps ErrConflict with a message.
func Conflict(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, a...))
}
