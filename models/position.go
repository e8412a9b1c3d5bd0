package models

import (
	"io"
	"strconv"
)

// Position is where a node goes relative to a target node (the GraphQL
// enum). Written by hand rather than generated so that a bad value is
// BAD_USER_INPUT that lists the good ones, not an internal error.
type Position string

// The positions.
const (
	PositionFirstChild Position = "FIRST_CHILD" // the target's first child
	PositionLastChild  Position = "LAST_CHILD"  // the target's last child
	PositionLeft       Position = "LEFT"        // the target's sibling just before it
	PositionRight      Position = "RIGHT"       // the target's sibling just after it
)

// IsValid says whether p is one of the positions.
func (p Position) IsValid() bool {
	switch p {
	case PositionFirstChild, PositionLastChild, PositionLeft, PositionRight:
		return true
	}
	return false
}

func (p Position) String() string { return string(p) }

// UnmarshalGQL reads a GraphQL enum value, refusing unknown positions.
func (p *Position) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	if pos := Position(s); pos.IsValid() {
		*p = pos
		return nil
	}
	return Errorf(CodeBadUserInput, "position %v is not one of FIRST_CHILD, LAST_CHILD, LEFT, RIGHT (Studio's first-child and left are written FIRST_CHILD and LEFT here)", v)
}

// MarshalGQL writes the position as a GraphQL enum value.
func (p Position) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(p))) }
