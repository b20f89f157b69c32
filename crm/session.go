package crm

import (
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Session is a logged-in browser. Its id is the hash of the cookie token,
// so a database leak gives no usable cookies.
type Session struct {
	ID        string
	UserID    int64
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession stores a session.
func CreateSession(tx *gorm.DB, s *Session) error {
	if err := tx.Create(s).Error; err != nil {
		return fmt.Errorf("crm: create session: %w", err)
	}
	return nil
}

// LiveSession is the unexpired session with id, or ErrNotFound.
func LiveSession(tx *gorm.DB, id string, now time.Time) (Session, error) {
	var s Session
	err := tx.Where("id = ? AND expires_at > ?", id, now.UTC()).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return s, NotFound("session", "")
	}
	return s, err
}

// DeleteSession ends one session.
func DeleteSession(tx *gorm.DB, id string) error {
	return tx.Where("id = ?", id).Delete(&Session{}).Error
}

// EndSessions ends every session of a user (a new password, deactivation).
func EndSessions(tx *gorm.DB, userID int64) error {
	if err := tx.Where("user_id = ?", userID).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("crm: end sessions of user %d: %w", userID, err)
	}
	return nil
}

// SetPasswordHash stores a user's new password hash.
func SetPasswordHash(tx *gorm.DB, userID int64, hash string) error {
	return setPassword(tx, userID, hash, false)
}

// SetGeneratedPassword stores a password someone else chose for the user
// (generated, or set by the owner): they must choose their own at the next
// login.
func SetGeneratedPassword(tx *gorm.DB, userID int64, hash string) error {
	return setPassword(tx, userID, hash, true)
}

func setPassword(tx *gorm.DB, userID int64, hash string, mustChange bool) error {
	return tx.Model(&User{ID: userID}).Updates(map[string]any{"password_hash": hash, "must_change_password": mustChange, "updated_at": time.Now().UTC()}).Error
}
