package models

import (
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"io"
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
// It allocates nothing: every id a tree read scans comes through here.
func ParseID(s string) (ID, error) {
	var id ID
	dashed := len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-'
	if len(s) != 32 && !dashed {
		return id, malformedID(s)
	}
	for i, j := 0, 0; i < len(id); i, j = i+1, j+2 {
		if dashed && (j == 8 || j == 13 || j == 18 || j == 23) {
			j++
		}
		hi, ok1 := fromHex(s[j])
		lo, ok2 := fromHex(s[j+1])
		if !ok1 || !ok2 {
			return ID{}, malformedID(s)
		}
		id[i] = hi<<4 | lo
	}
	return id, nil
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
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

// MarshalText writes the id as 32 hex digits.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses an id as ParseID does.
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	*id = p
	return err
}

// MarshalGQL writes the id as a GraphQL string.
func (id ID) MarshalGQL(w io.Writer) {
	var b [34]byte
	b[0], b[33] = '"', '"'
	hex.Encode(b[1:33], id[:])
	_, _ = w.Write(b[:])
}

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
