package models

import (
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ID is a UUID written as 32 lowercase hex characters, as Studio and Kolibri
// write them. It is stored as a uuid on PostgreSQL and as that text on SQLite.
type ID [16]byte

// NewID returns a random (version 4) ID.
func NewID() ID {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	id[6] = (id[6] & 0x0f) | 0x40
	id[8] = (id[8] & 0x3f) | 0x80
	return id
}

// ParseID parses 32 hex characters, or a dashed UUID; anything else is BAD_USER_INPUT.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 {
		return id, malformedID(s)
	}
	if _, err := hex.Decode(id[:], []byte(strings.ToLower(s))); err != nil {
		return id, malformedID(s)
	}
	return id, nil
}

func malformedID(s string) error {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return Errorf(CodeBadUserInput, "%q is not an id: ids are 32 hex characters", s)
}

// MustParseID is ParseID for literals in tests and examples.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is all zeros, which stands for "no id".
func (id ID) IsZero() bool { return id == ID{} }

// Value stores the hex form: PostgreSQL parses it as a uuid, SQLite keeps the text.
func (id ID) Value() (driver.Value, error) { return id.String(), nil }

// Scan reads the hex or dashed form (pgx returns uuids dashed) or 16 raw bytes.
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case string:
		p, err := ParseID(v)
		*id = p
		return err
	case []byte:
		if len(v) == 16 {
			copy(id[:], v)
			return nil
		}
		p, err := ParseID(string(v))
		*id = p
		return err
	case [16]byte:
		*id = v
		return nil
	case nil:
		*id = ID{}
		return nil
	}
	return fmt.Errorf("models: cannot scan %T into ID", src)
}

func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	*id = p
	return err
}

// MarshalGQL writes the id as a GraphQL string.
func (id ID) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(id.String())) }

// UnmarshalGQL accepts a GraphQL string (or an int, which is always malformed).
func (id *ID) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return Errorf(CodeBadUserInput, "an id must be a string of 32 hex characters, not %T", v)
	}
	p, err := ParseID(s)
	*id = p
	return err
}
