package db

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"studio/models"
)

// canCopy says whether the transaction in ctx can use COPY: on PostgreSQL,
// where InTx keeps the transaction's pgx connection beside it.
func canCopy(ctx context.Context) bool {
	_, ok := ctx.Value(pgxConnKey{}).(*pgx.Conn)
	return ok
}

// copyRows writes rows with PostgreSQL's COPY, in the transaction in ctx
// (canCopy must hold). COPY skips parsing a statement as large as the rows,
// which is most of the cost of a bulk INSERT.
func copyRows(ctx context.Context, table string, columns []string, rows [][]any) error {
	pc := ctx.Value(pgxConnKey{}).(*pgx.Conn)
	if c := CounterFrom(ctx); c != nil {
		c.Add(1)
	}
	if _, err := pc.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("db: copy into %s: %w", table, err)
	}
	return nil
}

// copyModels writes rows, pointers to structs of one model, with COPY into
// the model's table (canCopy must hold). The columns and each row's values
// come from bun's metadata of the model, the same that INSERT uses, so the
// two paths cannot disagree about which value goes in which column.
func copyModels[T any](ctx context.Context, idb bun.IDB, rows []*T) error {
	table := idb.Dialect().Tables().Get(reflect.TypeFor[T]())
	columns := make([]string, len(table.Fields))
	for i, f := range table.Fields {
		columns[i] = f.Name
	}
	values := make([][]any, len(rows))
	for i, r := range rows {
		strct := reflect.ValueOf(r).Elem()
		row := make([]any, len(table.Fields))
		for j, f := range table.Fields {
			v, err := copyValue(f, f.Value(strct))
			if err != nil {
				return fmt.Errorf("db: copy into %s: %s: %w", table.Name, f.Name, err)
			}
			row[j] = v
		}
		values[i] = row
	}
	return copyRows(ctx, table.Name, columns, values)
}

// copyValue is a field's value as COPY's binary encoding takes it: ids as
// 16 bytes, JSON columns as their text, nil pointers as NULL.
func copyValue(f *schema.Field, v reflect.Value) (any, error) {
	if f.UserSQLType == "jsonb" {
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case models.ID:
		return [16]byte(x), nil
	case models.ChangeType:
		return int(x), nil
	}
	return v.Interface(), nil
}
