package db

import (
	"database/sql"
	"errors"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"studio/models"
)

// The drivers' errors, normalised here and nowhere else: what the rest of
// the package asks of an error is one of these functions.

// isUniqueViolation normalises both databases' unique-constraint errors.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		c := liteErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// isConstraint reports an SQLite constraint violation.
func isConstraint(err error) bool {
	var liteErr *sqlite.Error
	return errors.As(err, &liteErr) && liteErr.Code()&0xff == 19 // SQLITE_CONSTRAINT
}

// isRetryable says whether a transaction failed only because of others
// running beside it: a deadlock (40P01) or a serialisation failure (40001).
// "current transaction is aborted" (25P02) is not: it follows an earlier
// error that was not passed on, a bug to fix where it was dropped.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// isStatementError is a database error caused by the change's data (a
// constraint), as opposed to a broken connection.
func isStatementError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code[:2] == "23" || pgErr.Code[:2] == "22"
	}
	return isConstraint(err)
}

// notFound is the error for something that does not exist or that the
// caller may not see: the two are never told apart.
func notFound(what string, id models.ID) error {
	if what == "node" {
		// The commonest slip: a channel's id where its root's is meant.
		return models.Errorf(models.CodeNotFound, "node %s does not exist or you cannot see it (a channel's nodes go under its root: Channel.root.id)", id)
	}
	return models.Errorf(models.CodeNotFound, "%s %s does not exist or you cannot see it", what, id)
}

// conflictError is what the client hears of a statement the database
// refused because of the change's data (a constraint, a value it cannot
// store): the code and a generic message. The database's own text names
// tables, columns and values, so it goes to the log only.
func conflictError(err error) error {
	slog.Warn("db: a change was refused by the database", "err", err)
	return models.Errorf(models.CodeBadUserInput, "the change conflicts with the data already stored, or holds a value the database cannot store; check its values (details are in the server log)")
}

// limitText refuses text longer than n characters, or with a NUL character.
func limitText(field, s string, n int) error {
	if err := models.ValidateText(field, s); err != nil {
		return err
	}
	if len([]rune(s)) > n {
		return models.Errorf(models.CodeBadUserInput, "%s is longer than %d characters; shorten it", field, n)
	}
	return nil
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
