package db

import (
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// bun v1.3.0's AppendJSON, which writes every JSON column and JSON
// argument into SQL, rewrites the escape \u0000 as \\u0000 and so misreads
// the text `\\u0000` (an escaped backslash, then "u0000"): the literal text
// `\u0000` came back as a backslash and a NUL on SQLite, drifting again on
// each save, and PostgreSQL refused it. These dialects write JSON as an
// ordinary SQL string literal instead: encoding/json's output is valid JSON
// with no raw NUL byte, and neither database reads backslashes in a
// standard string literal, so only single quotes need doubling. A NUL
// escape then reaches PostgreSQL as JSON says it, which refuses it, so the
// write paths refuse NUL characters before they get here.

type pgDialect struct{ *pgdialect.Dialect }

func (pgDialect) AppendJSON(b, jsonb []byte) []byte { return appendJSONLiteral(b, jsonb) }

type sqliteDialect struct{ *sqlitedialect.Dialect }

func (sqliteDialect) AppendJSON(b, jsonb []byte) []byte { return appendJSONLiteral(b, jsonb) }

// appendJSONLiteral appends jsonb as a SQL string literal. A NUL byte is
// dropped, as bun drops it: it is never valid in JSON text.
func appendJSONLiteral(b, jsonb []byte) []byte {
	b = append(b, '\'')
	for _, c := range jsonb {
		switch c {
		case '\'':
			b = append(b, '\'', '\'')
		case 0:
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}
