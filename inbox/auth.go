package inbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// Auth errors.
var (
	ErrUnauthorized = errors.New("not logged in")
	ErrBadLogin     = errors.New("wrong email or password")
	ErrRateLimited  = errors.New("too many failed logins")
)

// MinPassword is the shortest password accepted.
const MinPassword = 8

// bcryptCost is about 130 ms per hash on a small server.
const bcryptCost = 10

// HashPassword hashes a password with bcrypt.
func HashPassword(pw string) (string, error) {
	if len(pw) < MinPassword {
		return "", crm.Invalid("password must be at least %d characters", MinPassword)
	}
	if len(pw) > 72 {
		return "", crm.Invalid("password must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	return string(h), err
}

// RandomPassword returns a readable one-time password.
func RandomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenID(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// Session is a logged-in browser (crm's row).
type Session = crm.Session

// CreateUser adds a user with a password.
func (a *App) CreateUser(ctx context.Context, actor *int64, email, name string, role crm.Role, password string) (crm.User, error) {
	h, err := HashPassword(password)
	if err != nil {
		return crm.User{}, err
	}
	u := crm.User{Email: email, Name: strings.TrimSpace(name), Role: role, PasswordHash: h}
	err = a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := crm.CreateUser(tx, &u); err != nil {
			return err
		}
		_, err := crm.Audit(tx, actor, "user.create", "user", u.ID, map[string]any{"email": u.Email, "role": u.Role})
		return err
	})
	return u, err
}

// SetPassword changes a user's password and ends their sessions.
func (a *App) SetPassword(ctx context.Context, actor *int64, email, password string) error {
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := crm.UserByEmail(tx, email)
		if err != nil {
			return err
		}
		if err := crm.SetPasswordHash(tx, u.ID, h); err != nil {
			return err
		}
		if err := crm.EndSessions(tx, u.ID); err != nil {
			return err
		}
		_, err = crm.Audit(tx, actor, "user.password", "user", u.ID, map[string]any{"email": u.Email})
		return err
	})
}

// EnsureOwner creates the first owner on an empty database. With an empty
// password a one-time password is generated and returned, for the log.
func (a *App) EnsureOwner(ctx context.Context, email, password string) (created bool, pw string, err error) {
	n, err := crm.CountUsers(a.db.WithContext(ctx))
	if err != nil || n > 0 {
		return false, "", err
	}
	if email == "" {
		email = "owner@switchboard.local"
	}
	generated := password == ""
	if generated {
		password = RandomPassword()
	}
	u, err := a.CreateUser(ctx, nil, email, "Owner", crm.Owner, password)
	if err != nil {
		return false, "", fmt.Errorf("inbox: create owner: %w", err)
	}
	if generated { // printed in the log: the owner chooses their own at first login
		if err := a.db.WithContext(ctx).Model(&crm.User{ID: u.ID}).Update("must_change_password", true).Error; err != nil {
			return false, "", err
		}
	}
	return true, password, nil
}

// Login checks a password and opens a session. Failures are rate limited
// per email and per client address.
func (a *App) Login(ctx context.Context, email, password, remote string) (token string, s Session, u crm.User, err error) {
	email = strings.ToLower(strings.TrimSpace(email))
	keys := []string{"e:" + email, "a:" + addressKey(remote)}
	// The attempt is counted before the slow hash, so parallel guesses
	// cannot all pass the check before any failure is recorded.
	wait, at := a.login.take(keys...)
	if wait > 0 {
		return "", s, u, &RateLimited{Wait: wait}
	}
	u, err = crm.UserByEmail(a.db.WithContext(ctx), email)
	if err != nil && !errors.Is(err, crm.ErrNotFound) {
		a.login.release(at, keys...) // the database failed, not the guess
		return "", s, u, err
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = "$2a$10$7EqJtq98hPqEX7fNZaFWoO5uUfgXcXsMhHRtWZlYgN6zT8c3iP1xK" // same cost either way
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || err != nil || !u.Active {
		a.log.Warn("login failed", "email", email, "remote", remote)
		return "", s, crm.User{}, ErrBadLogin
	}
	a.login.reset("e:" + email)
	a.login.release(at, keys[1]) // a good login does not count against its address
	token, s, err = a.openSession(a.db.WithContext(ctx), u)
	if err != nil {
		return "", s, u, err
	}
	a.log.Info("login", "user", u.ID, "email", u.Email, "remote", remote)
	return token, s, u, nil
}

// addressKey is what the login limit counts failures by for a client
// address: the address itself for IPv4, its /64 for IPv6 (one subscriber
// line or host usually holds a whole /64 and could spread its attempts
// over it).
func addressKey(remote string) string {
	a, err := netip.ParseAddr(remote)
	if err != nil || !a.Is6() || a.Is4In6() {
		return remote
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// NewSession makes a session for u lasting ttl, and its cookie token
// (the session's id is the token's hash).
func NewSession(u crm.User, ttl time.Duration) (string, Session) {
	token := randomToken()
	now := time.Now().UTC()
	return token, Session{ID: tokenID(token), UserID: u.ID, CSRF: randomToken(), CreatedAt: now, ExpiresAt: now.Add(ttl)}
}

// openSession stores a new session for u and returns its cookie token.
func (a *App) openSession(tx *gorm.DB, u crm.User) (string, Session, error) {
	token, s := NewSession(u, a.opts.SessionTTL)
	if err := crm.CreateSession(tx, &s); err != nil {
		return "", s, err
	}
	return token, s, nil
}

// Authenticate resolves a session cookie token to its user.
func (a *App) Authenticate(ctx context.Context, token string) (crm.User, Session, error) {
	var s Session
	if token == "" {
		return crm.User{}, s, ErrUnauthorized
	}
	s, err := crm.LiveSession(a.db.WithContext(ctx), tokenID(token), time.Now())
	if errors.Is(err, crm.ErrNotFound) {
		return crm.User{}, s, ErrUnauthorized
	}
	if err != nil {
		return crm.User{}, s, err
	}
	u, err := crm.GetUser(a.db.WithContext(ctx), s.UserID)
	if errors.Is(err, crm.ErrNotFound) || (err == nil && !u.Active) {
		return crm.User{}, s, ErrUnauthorized
	}
	if err != nil { // the database failed: not a reason to log anyone out
		return crm.User{}, s, err
	}
	return u, s, nil
}

// Logout ends a session.
func (a *App) Logout(ctx context.Context, token string) error {
	return crm.DeleteSession(a.db.WithContext(ctx), tokenID(token))
}

// RateLimited is ErrRateLimited with how long until the next try, for the
// Retry-After header.
type RateLimited struct{ Wait time.Duration }

func (e *RateLimited) Error() string {
	return fmt.Sprintf("%s: try again in %s", ErrRateLimited, e.Wait.Round(time.Second))
}

func (e *RateLimited) Unwrap() error { return ErrRateLimited }

// limiter counts failures per key in a sliding window.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	fails  map[string][]time.Time
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, fails: map[string][]time.Time{}}
}

// take counts an attempt against every key, at once with the check: when
// any key is at its limit it counts nothing and returns how long until it
// may try again. Whatever the concurrency, at most limit attempts per key
// pass in a window. The returned time identifies the attempt for release.
func (l *limiter) take(keys ...string) (time.Duration, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	var wait time.Duration
	for _, k := range keys {
		ts := l.prune(k, now)
		if len(ts) >= l.limit {
			if w := ts[0].Add(l.window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	if wait > 0 {
		return wait, now
	}
	for _, k := range keys {
		l.fails[k] = append(l.fails[k], now)
	}
	if len(l.fails) > 100000 { // bound memory under a spray of addresses
		for k := range l.fails {
			if len(l.prune(k, now)) == 0 {
				delete(l.fails, k)
			}
		}
	}
	return 0, now
}

// release uncounts an attempt take counted (it succeeded, or failed for
// a reason that was not the guess).
func (l *limiter) release(at time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ts := l.fails[k]
		for i := len(ts) - 1; i >= 0; i-- {
			if ts[i].Equal(at) {
				l.fails[k] = append(ts[:i:i], ts[i+1:]...)
				break
			}
		}
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.fails, key)
	l.mu.Unlock()
}

func (l *limiter) prune(k string, now time.Time) []time.Time {
	ts := l.fails[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > l.window {
		i++
	}
	ts = ts[i:]
	l.fails[k] = ts
	return ts
}

// PasswordChange is a user's change of their own password.
type PasswordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// ChangeOwnPassword changes u's password when the current one is right;
// every other session of u ends (a stolen session included), the one
// making the change stays. Wrong guesses count against the login limit.
func (a *App) ChangeOwnPassword(ctx context.Context, u crm.User, sessionID string, p PasswordChange) error {
	keys := []string{"e:" + strings.ToLower(u.Email)}
	wait, at := a.login.take(keys...)
	if wait > 0 {
		return &RateLimited{Wait: wait}
	}
	cur, err := crm.GetUser(a.db.WithContext(ctx), u.ID)
	if err != nil {
		a.login.release(at, keys...)
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(cur.PasswordHash), []byte(p.Current)) != nil {
		a.log.Warn("password change: wrong current password", "user", u.ID)
		return crm.Invalid("the current password is wrong")
	}
	a.login.release(at, keys...)
	if p.New == p.Current {
		return crm.Invalid("the new password is the current one")
	}
	h, err := HashPassword(p.New)
	if err != nil {
		return err
	}
	return a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := crm.SetPasswordHash(tx, u.ID, h); err != nil {
			return err
		}
		if err := tx.Where("user_id = ? AND id <> ?", u.ID, sessionID).Delete(&crm.Session{}).Error; err != nil {
			return fmt.Errorf("inbox: end other sessions of user %d: %w", u.ID, err)
		}
		_, err := crm.Audit(tx, &u.ID, "user.password", "user", u.ID, map[string]any{"email": u.Email, "own": true})
		return err
	})
}
