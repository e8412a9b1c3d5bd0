package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"studio/models"
)

// BcryptCost is the work factor for password hashes; tests lower it.
var BcryptCost = bcrypt.DefaultCost

// tokenPrefix marks studio's API tokens, so that a leaked one is recognisable.
const tokenPrefix = "studio_"

// now is the time every write records: UTC, to the microsecond both
// databases keep, so that what a write returns equals what it stored.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// NewUser describes a user to create.
type NewUser struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
	IsAdmin   bool
}

// CreateUser adds a user; the email must be new, ignoring case.
func (d *DB) CreateUser(ctx context.Context, nu NewUser) (*models.User, error) {
	email := strings.TrimSpace(nu.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return nil, models.Errorf(models.CodeBadUserInput, "%q is not an email address", nu.Email)
	}
	if len(nu.Password) < 8 {
		return nil, models.Errorf(models.CodeBadUserInput, "the password is too short: use at least 8 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), BcryptCost)
	if err != nil {
		return nil, models.Errorf(models.CodeBadUserInput, "the password cannot be used: %v", err)
	}
	u := &models.User{
		ID: models.NewID(), Email: email, PasswordHash: string(hash),
		FirstName: nu.FirstName, LastName: nu.LastName, IsAdmin: nu.IsAdmin,
		DiskSpace: models.DefaultDiskSpace, CreatedAt: now(),
	}
	err = d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.NewInsert().Model(u).Exec(ctx)
		return err
	})
	if isUniqueViolation(err) {
		return nil, models.Errorf(models.CodeConflict, "a user with email %s already exists", email)
	}
	if err != nil {
		return nil, fmt.Errorf("db: create user: %w", err)
	}
	return u, nil
}

// SetPassword gives the user with email a new password. Their tokens stay
// valid; a login with the old password fails from now on.
func (d *DB) SetPassword(ctx context.Context, email, password string) (*models.User, error) {
	if len(password) < 8 {
		return nil, models.Errorf(models.CodeBadUserInput, "the password is too short: use at least 8 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return nil, models.Errorf(models.CodeBadUserInput, "the password cannot be used: %v", err)
	}
	u, err := d.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	err = d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.NewUpdate().Model((*models.User)(nil)).Set("password_hash = ?", string(hash)).Where("id = ?", u.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: set password: %w", err)
	}
	return u, nil
}

// CountUsers counts all users; the server creates an admin when there are none.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	n, err := d.sql.NewSelect().Model((*models.User)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: count users: %w", err)
	}
	return int(n), nil
}

// FirstAdmin returns the oldest admin, or nil if there is none.
func (d *DB) FirstAdmin(ctx context.Context) (*models.User, error) {
	var us []*models.User
	err := d.sql.NewSelect().Model(&us).Where("u.is_admin = ?", true).OrderExpr("u.created_at, u.id").Limit(1).Scan(ctx)
	if err != nil || len(us) == 0 {
		return nil, err
	}
	return us[0], nil
}

// UserByEmail finds a user by email, ignoring case.
func (d *DB) UserByEmail(ctx context.Context, email string) (*models.User, error) {
	u := new(models.User)
	err := d.sql.NewSelect().Model(u).Where("lower(u.email) = lower(?)", strings.TrimSpace(email)).Scan(ctx)
	if isNoRows(err) {
		return nil, models.Errorf(models.CodeNotFound, "no user has the email %s", email)
	}
	if err != nil {
		return nil, fmt.Errorf("db: user by email: %w", err)
	}
	return u, nil
}

// Login checks an email and password sent from the client address addr
// ("" when unknown), refusing with TOO_MANY_REQUESTS while that email or
// address has failed too often lately (see LoginGuard).
func (d *DB) Login(ctx context.Context, email, password, addr string) (*models.User, error) {
	done, err := d.Logins.begin(email, addr)
	if err != nil {
		return nil, err
	}
	u, err := d.Authenticate(ctx, email, password)
	// Only a wrong email or password counts; a database error is not the caller's.
	done(models.CodeOf(err) == models.CodeUnauthenticated)
	return u, err
}

// Authenticate checks an email and password. Both failures give the same
// error, and take the same time: an unknown email is compared with a dummy
// hash, so that neither tells which emails exist.
func (d *DB) Authenticate(ctx context.Context, email, password string) (*models.User, error) {
	wrong := models.Errorf(models.CodeUnauthenticated, "wrong email or password")
	u, err := d.UserByEmail(ctx, email)
	if models.CodeOf(err) == models.CodeNotFound {
		_ = CompareHash(dummyHash(), []byte(password))
		return nil, wrong
	}
	if err != nil {
		return nil, err
	}
	if CompareHash([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, wrong
	}
	return u, nil
}

// CompareHash checks a password against a bcrypt hash; tests replace it to
// count comparisons.
var CompareHash = bcrypt.CompareHashAndPassword

// dummy is the hash unknown emails are compared with: made once, at the
// cost real hashes have.
var dummy struct {
	sync.Mutex
	cost int
	hash []byte
}

func dummyHash() []byte {
	dummy.Lock()
	defer dummy.Unlock()
	if dummy.hash == nil || dummy.cost != BcryptCost {
		h, err := bcrypt.GenerateFromPassword([]byte("no user has this password"), BcryptCost)
		if err != nil { // an invalid cost: real hashes could not be made either
			h, _ = bcrypt.GenerateFromPassword([]byte("no user has this password"), bcrypt.DefaultCost)
		}
		dummy.hash, dummy.cost = h, BcryptCost
	}
	return dummy.hash
}

// CreateToken makes a new API token for a user and returns it; only its hash is kept.
func (d *DB) CreateToken(ctx context.Context, userID models.ID, name string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("db: create token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	t := &models.APIToken{ID: models.NewID(), UserID: userID, Name: name, TokenHash: hashToken(token), CreatedAt: now()}
	err := d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.NewInsert().Model(t).Exec(ctx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("db: create token: %w", err)
	}
	return token, nil
}

// UserByToken returns the token's user. A token that is unknown or malformed
// gives UNAUTHENTICATED.
func (d *DB) UserByToken(ctx context.Context, token string) (*models.User, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return nil, models.Errorf(models.CodeUnauthenticated, "the bearer token is not a studio token; log in or create one with `studio token create`")
	}
	hash := hashToken(token)
	if u := d.tokens.get(hash); u != nil {
		return u, nil
	}
	u := new(models.User)
	err := d.sql.NewSelect().Model(u).
		Join("JOIN api_tokens AS t ON t.user_id = u.id").
		Where("t.token_hash = ?", hash).Scan(ctx)
	if isNoRows(err) {
		return nil, models.Errorf(models.CodeUnauthenticated, "the bearer token is unknown or revoked; log in again")
	}
	if err != nil {
		return nil, fmt.Errorf("db: user by token: %w", err)
	}
	d.tokens.put(hash, u)
	return u, nil
}

// RevokeToken forgets one of u's tokens: requests that send it are refused
// from then on (on other instances within tokenTTL, as their caches
// expire). A token that is not u's is NOT_FOUND, whoever holds it.
func (d *DB) RevokeToken(ctx context.Context, u *models.User, token string) error {
	hash := hashToken(token)
	err := d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.NewDelete().Model((*models.APIToken)(nil)).
			Where("token_hash = ?", hash).Where("user_id = ?", u.ID).Exec(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = models.Errorf(models.CodeNotFound, "no such token of yours: it was revoked already, or was never yours")
		}
		return err
	})
	d.tokens.drop(hash)
	if err != nil && models.CodeOf(err) == models.CodeInternal {
		return fmt.Errorf("db: revoke token: %w", err)
	}
	return err
}

// tokenCache remembers for a moment who a token's holder is: authenticating
// was one of the two statements of the simplest read. A change to a user
// (an admin flag, a deleted token) shows within tokenTTL on every instance.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedUser
	// now is the cache's clock (nil: time.Now); tests stop it, so that what
	// they count does not depend on how fast the machine builds a fixture.
	now func() time.Time
}

func (c *tokenCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// SetTokenClock replaces the token cache's clock; tests use it to keep a
// remembered token from expiring, or to make it expire, whatever the time.
func (d *DB) SetTokenClock(now func() time.Time) {
	d.tokens.mu.Lock()
	defer d.tokens.mu.Unlock()
	d.tokens.now = now
}

type cachedUser struct {
	u       *models.User
	expires time.Time
}

const tokenTTL = 2 * time.Second

func (c *tokenCache) get(hash string) *models.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || c.clock().After(e.expires) {
		return nil
	}
	u := *e.u // a copy: callers may not change the cached user
	return &u
}

func (c *tokenCache) put(hash string, u *models.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= 10000 {
		c.m = map[string]cachedUser{} // bounded: start afresh rather than grow
	}
	cp := *u
	c.m[hash] = cachedUser{u: &cp, expires: c.clock().Add(tokenTTL)}
}

func (c *tokenCache) drop(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, hash)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// UsersByID loads users by id.
func (d *DB) UsersByID(ctx context.Context, ids []models.ID) (map[models.ID]*models.User, error) {
	var us []*models.User
	if err := d.sql.NewSelect().Model(&us).Where("u.id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: users by id: %w", err)
	}
	out := make(map[models.ID]*models.User, len(us))
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}
