package models

import (
	"time"

	"github.com/uptrace/bun"
)

// DefaultDiskSpace is a new user's upload quota: 500 MiB, as Studio's.
const DefaultDiskSpace = 500 << 20

// User is an account: an editor or viewer of channels, or an admin.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID           ID        `bun:"id,pk,type:uuid"`
	Email        string    `bun:"email"`
	PasswordHash string    `bun:"password_hash" json:"-"`
	FirstName    string    `bun:"first_name"`
	LastName     string    `bun:"last_name"`
	IsAdmin      bool      `bun:"is_admin"`
	DiskSpace    int64     `bun:"disk_space"`
	CreatedAt    time.Time `bun:"created_at"`
}

// APIToken is a bearer token; only its SHA-256 is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens,alias:t"`

	ID         ID         `bun:"id,pk,type:uuid"`
	UserID     ID         `bun:"user_id,type:uuid"`
	Name       string     `bun:"name"`
	TokenHash  string     `bun:"token_hash"`
	CreatedAt  time.Time  `bun:"created_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
}
