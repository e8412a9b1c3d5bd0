package db

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// The JSON repair is a Go migration, beside the SQL files of
// db/migrations, because it must judge numbers exactly as Go's decoder
// reads them back, and SQLite's SQL cannot rewrite keys or strings deep in
// a JSON document. It repairs what older versions let in:
//
//   - a number that does not fit a float64 (1e400) made every read of its
//     row fail; it becomes null, which every field treats as unset. A string
//     would keep the digits but put a string where a number is expected,
//     and the number had no value any client could use.
//   - on SQLite, bun's AppendJSON turned the text `\u0000` (six characters)
//     into a backslash and a NUL. The NUL becomes "u0000" again, which gives
//     back the text as it was typed. PostgreSQL could not store a NUL, so it
//     has none to repair.
//
// Released migrations never change; a later repair is a new migration.
var repairJSONMigration = struct{ name, comment string }{"20261204000001", "repair_json"}

// jsonColumns are the columns that hold clients' JSON, by table and key.
var jsonColumns = []struct {
	table, key string
	columns    []string
}{
	{"channels", "id", []string{"thumbnail_encoding", "published_kind_count", "included_languages", "content_defaults"}},
	{"content_nodes", "id", []string{"extra_fields", "thumbnail_encoding", "grade_levels", "resource_types",
		"learning_activities", "accessibility_labels", "categories", "learner_needs"}},
	{"assessment_items", "id", []string{"answers", "hints"}},
	{"changes", "server_rev", []string{"key", "payload"}},
}

// addRepairMigration registers the JSON repair with the SQL migrations.
func (d *DB) addRepairMigration(ms *migrate.Migrations) {
	ms.Add(migrate.Migration{Name: repairJSONMigration.name, Comment: repairJSONMigration.comment,
		Up: func(ctx context.Context, _ *migrate.Migrator, _ *migrate.Migration) error {
			return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error { return d.repairJSON(ctx, tx) })
		}})
}

// repairSuspect is a SQL condition true of every value that may need a
// repair (and of a few that do not): a number of 309 digits or more, or
// with an exponent, or (SQLite) a NUL escape.
func (d *DB) repairSuspect(col string) string {
	if d.Kind == Postgres {
		// jsonb prints numbers in full, never with an exponent; a
		// repetition count may not pass 255.
		return col + "::text ~ '[0-9]{200}[0-9]{109}'"
	}
	return "(" + col + " GLOB '*[0-9][eE]*' OR " + col + " GLOB '*" + strings.Repeat("[0-9]", 309) + "*' OR instr(" + col + `, '\u0000') > 0)`
}

func (d *DB) repairJSON(ctx context.Context, tx bun.Tx) error {
	for _, t := range jsonColumns {
		for _, col := range t.columns {
			if err := d.repairColumn(ctx, tx, t.table, t.key, col); err != nil {
				return fmt.Errorf("db: repair %s.%s: %w", t.table, col, err)
			}
		}
	}
	return nil
}

// repairColumn repairs one column, reading its suspect rows in pages by key.
func (d *DB) repairColumn(ctx context.Context, tx bun.Tx, table, key, col string) error {
	after := ""
	for {
		var rows []struct {
			Key  string `bun:"k"`
			Text string `bun:"v"`
		}
		q := "SELECT CAST(" + key + " AS text) AS k, CAST(" + col + " AS text) AS v FROM " + table +
			" WHERE " + d.repairSuspect(col)
		args := []any{}
		if after != "" {
			q += " AND " + key + " > ?"
			args = append(args, after)
		}
		q += " ORDER BY " + key + " LIMIT 500"
		if err := tx.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			fixed, changed, err := repairJSONText(r.Text)
			if err != nil {
				return fmt.Errorf("row %s: %w", r.Key, err)
			}
			if changed {
				if _, err := tx.NewRaw("UPDATE "+table+" SET "+col+" = ? WHERE "+key+" = ?", fixed, r.Key).Exec(ctx); err != nil {
					return err
				}
			}
		}
		if len(rows) < 500 {
			return nil
		}
		after = rows[len(rows)-1].Key
	}
}

// repairJSONText returns text with its numbers out of float64 range made
// null and its NUL characters made "u0000", and whether anything changed.
func repairJSONText(text string) (string, bool, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false, err
	}
	v, changed := repairJSONValue(v)
	if !changed {
		return text, false, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false, err
	}
	return strings.TrimSuffix(b.String(), "\n"), true, nil
}

func repairJSONValue(v any) (any, bool) {
	switch x := v.(type) {
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return nil, true
		}
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return strings.ReplaceAll(x, "\x00", "u0000"), true
		}
	case []any:
		changed := false
		for i, e := range x {
			var c bool
			x[i], c = repairJSONValue(e)
			changed = changed || c
		}
		return x, changed
	case map[string]any:
		changed := false
		out := make(map[string]any, len(x))
		for k, e := range x {
			ne, c := repairJSONValue(e)
			nk, kc := repairJSONValue(k)
			out[nk.(string)] = ne
			changed = changed || c || kc
		}
		return out, changed
	}
	return v, false
}
