package db

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// UploadURL is a one-time URL to which a chef PUTs the bytes of one file,
// named (md5, extension, size) when the URL was asked for. Its record is
// in the database, so that any instance takes the PUT, once.
type UploadURL struct {
	bun.BaseModel `bun:"table:upload_urls,alias:uu"`

	TokenHash string     `bun:"token_hash,pk"`
	UserID    models.ID  `bun:"user_id,type:uuid"`
	Checksum  string     `bun:"checksum"`
	Extension string     `bun:"extension"`
	Size      int64      `bun:"size"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

// UploadKeep is how long an upload URL counts against its user's quota
// and keeps its blob from the collector (when it was used, or while it may
// be): a chef uploads every file before it names any in add_nodes, which
// may be hours later on a large channel. Older records are dropped.
const UploadKeep = 7 * 24 * time.Hour

// NewUpload is what a chef says of a file it is about to upload.
type NewUpload struct {
	Checksum  string // md5, 32 lowercase hex
	Extension string
	Size      int64
}

// CreateUploadURL records a one-time upload URL for u's file f, usable
// from at until at+ttl, and returns its secret. The quota is checked in
// the same transaction: a file that would take u over it is refused with
// QUOTA_EXCEEDED (admins have none). Records older than UploadKeep go at
// the same time.
func (d *DB) CreateUploadURL(ctx context.Context, u *models.User, f NewUpload, at time.Time, ttl time.Duration) (string, error) {
	if u == nil {
		return "", models.Errorf(models.CodeUnauthenticated, "sign in to upload files: send Authorization: Token <token> (the login mutation or `studio token create` gives one)")
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("db: upload url: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	at = at.UTC().Truncate(time.Microsecond)
	up := &UploadURL{TokenHash: hashToken(token), UserID: u.ID, Checksum: f.Checksum, Extension: f.Extension,
		Size: f.Size, CreatedAt: at, ExpiresAt: at.Add(ttl)}
	err := d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		if _, err := tx.NewDelete().Model((*UploadURL)(nil)).Where("created_at < ?", at.Add(-UploadKeep)).Exec(ctx); err != nil {
			return fmt.Errorf("db: upload url: expire: %w", err)
		}
		if err := d.checkQuota(ctx, tx, u, []*models.File{{Checksum: f.Checksum, Size: f.Size}}); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(up).Exec(ctx); err != nil {
			return fmt.Errorf("db: upload url: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// UploadURLByToken returns the upload URL whose secret is token, if it may
// be used at at: NOT_FOUND when it is unknown or expired, CONFLICT when it
// was used already.
func (d *DB) UploadURLByToken(ctx context.Context, token string, at time.Time) (*UploadURL, error) {
	up := new(UploadURL)
	err := d.sql.NewSelect().Model(up).Where("uu.token_hash = ?", hashToken(token)).Scan(ctx)
	if isNoRows(err) {
		return nil, errUnknownUploadURL()
	}
	if err != nil {
		return nil, fmt.Errorf("db: upload url: %w", err)
	}
	return up, usable(up, at)
}

// UseUploadURL takes the upload URL whose secret is token, which must have
// been usable at at (when its PUT began), and runs store, which keeps the
// blob, holding the blob's lock (see lockBlob) until the URL is marked
// used: a URL is used once, by one request on one instance, and a store
// that fails leaves it usable.
func (d *DB) UseUploadURL(ctx context.Context, token string, at time.Time, store func(ctx context.Context, up *UploadURL) error) error {
	used := now()
	return d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		up := new(UploadURL)
		// The row is locked (PostgreSQL) or the database is (SQLite) from
		// here: a second PUT of the URL waits, then finds it used.
		res, err := tx.NewUpdate().Model(up).Set("used_at = ?", used).
			Where("token_hash = ? AND used_at IS NULL", hashToken(token)).Returning("*").Exec(ctx)
		if err != nil {
			return fmt.Errorf("db: use upload url: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := d.UploadURLByToken(ctx, token, at); err != nil {
				return err
			}
			return models.Errorf(models.CodeConflict, "this upload URL was used already; ask /api/file/upload_url for another")
		}
		if err := usable(&UploadURL{ExpiresAt: up.ExpiresAt}, at); err != nil {
			return err
		}
		if err := d.lockBlob(ctx, tx, up.Checksum); err != nil {
			return err
		}
		return store(ctx, up)
	})
}

func usable(up *UploadURL, at time.Time) error {
	switch {
	case up.UsedAt != nil:
		return models.Errorf(models.CodeConflict, "this upload URL was used already; ask /api/file/upload_url for another")
	case !at.Before(up.ExpiresAt):
		return errUnknownUploadURL()
	}
	return nil
}

func errUnknownUploadURL() error {
	return models.Errorf(models.CodeNotFound, "no such upload URL, or it has expired; ask /api/file/upload_url for another")
}

// keptUploads is the condition (over upload_urls aliased uu) of the
// records that count against quota and keep their blobs at at: made since
// at-UploadKeep, and used, or not expired yet.
func keptUploads(at time.Time) (string, []any) {
	at = at.UTC()
	return "uu.created_at > ? AND (uu.used_at IS NOT NULL OR uu.expires_at > ?)", []any{at.Add(-UploadKeep), at}
}
