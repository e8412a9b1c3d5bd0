package db

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// Position says where a node goes relative to a target node. The values are
// Studio's, so that its sync payloads carry over.
type Position string

// The positions: first or last child of the target, or its left or right sibling.
const (
	FirstChild Position = "first-child"
	LastChild  Position = "last-child"
	Left       Position = "left"
	Right      Position = "right"
)

// Change is one write to apply: a Studio sync event. Typed mutations and
// applyChanges both become lists of these, applied by Apply.
type Change struct {
	Type      models.ChangeType
	Table     string
	Key       any // an id, or a list of ids for composite keys (see each table)
	ChannelID *models.ID
	ClientRev *int64
	// Obj holds a created object's fields, Mods an update's fields or dot
	// paths; both use Studio's snake_case names.
	Obj, Mods           map[string]any
	Target              *models.ID
	Position            Position
	FromKey             *models.ID
	ExcludedDescendants []models.ID
}

// Tables a change may name.
const (
	TableContentNode    = "contentnode"
	TableChannel        = "channel"
	TableAssessmentItem = "assessmentitem"
	TableFile           = "file"
	TablePrerequisite   = "contentnode_prerequisite"
	TableEditor         = "editor_m2m"
	TableViewer         = "viewer_m2m"
	// tableMember removes a membership whatever its role; typed mutations only.
	tableMember = "member"
)

// ChangeError reports one change that failed.
type ChangeError struct {
	Index     int
	ClientRev *int64
	Code      models.Code
	Field     string
	Message   string
}

// Applied pairs an applied change with its rev in the log.
type Applied struct {
	Index     int
	ClientRev *int64
	ServerRev int64
	entry     *models.Change
}

// Result says what became of each change of a batch.
type Result struct {
	Applied []Applied
	// Disallowed are the changes the caller may not make: on a channel they
	// cannot edit (or that does not exist).
	Disallowed []ChangeError
	Errors     []ChangeError
	// Generated are the changes the server made in reply, such as the
	// node_id and content_id of new nodes.
	Generated []*models.Change
	// Channels are the channels the batch wrote to.
	Channels []models.ID
}

// errDisallowed marks a change its author may not make on its channel.
type errDisallowed struct{ err error }

func (e errDisallowed) Error() string { return e.err.Error() }
func (e errDisallowed) Unwrap() error { return e.err }

func disallow(err error) error { return errDisallowed{err} }

// Apply applies changes by u in one transaction and appends them, with what
// the server generated, to the change log.
//
// Not atomic (the sync protocol): each change runs in its own savepoint; one
// that fails is reported and the others apply. Atomic (typed mutations, or
// applyChanges with atomic: true): any failure rolls the whole batch back,
// and the error names every bad change by index.
func (d *DB) Apply(ctx context.Context, u *models.User, changes []Change, atomic bool) (*Result, error) {
	if u == nil {
		return nil, models.Errorf(models.CodeUnauthenticated, "sign in to make changes: send Authorization: Bearer <token> (the login mutation or `studio token create` gives one)")
	}
	res, err := d.write(ctx, u, atomic, func(ctx context.Context, a *applier) (*Result, error) {
		return a.run(ctx, changes)
	})
	if errors.Is(err, errRollback) {
		return res, atomicError(res, len(changes))
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// write runs fn with an applier, for a user's changes (Apply, AddFile),
// through the door: what the applier logged is appended to the change log
// and the channels it wrote are woken. Each applied change's ServerRev is
// known once the door appended it.
func (d *DB) write(ctx context.Context, u *models.User, atomic bool, fn func(ctx context.Context, a *applier) (*Result, error)) (*Result, error) {
	var res *Result
	err := d.door(ctx, func(ctx context.Context, w *writeTx) error {
		a := newApplier(d, w.Tx, u, atomic)
		var err error
		if res, err = fn(ctx, a); err != nil {
			return err
		}
		w.record(a.log...)
		for id := range a.written {
			res.Channels = append(res.Channels, id)
			w.touch(id)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for i := range res.Applied {
		if e := res.Applied[i].entry; e != nil {
			res.Applied[i].ServerRev = e.ServerRev
		}
	}
	return res, nil
}

// errRollback ends an atomic batch that had bad changes; the result says which.
var errRollback = errors.New("db: roll back")

// retryTx runs fn in a transaction, again when PostgreSQL chose it as a
// deadlock victim or it failed to serialise: a change locks the channels it
// needs in a fixed order, but a batch's changes lock theirs one after the
// other, so two batches may still meet in opposite orders. The pause before
// each attempt is random, so that two victims do not meet again in step.
func (d *DB) retryTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := d.inTx(throughDoor(ctx), fn)
		if attempt == maxAttempts || !isRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(1+rand.IntN(10*attempt)) * time.Millisecond):
		}
	}
}

// maxAttempts bounds the attempts of a transaction that deadlocks.
const maxAttempts = 8

func (a *applier) run(ctx context.Context, changes []Change) (*Result, error) {
	res := &Result{}
	if err := a.lockBatch(ctx, changes); err != nil {
		return nil, err
	}
	for i := 0; i < len(changes); {
		j := groupEnd(changes, i)
		errs, outs, err := a.applyGroup(ctx, changes[i:j])
		if err != nil {
			return nil, err
		}
		for k, e := range errs {
			idx := i + k
			c := changes[idx]
			var dis errDisallowed
			switch {
			case e == nil:
				var entry *models.Change
				if !outs[k].channel.IsZero() { // a no-op, such as deleting a missing node, is not logged
					entry = a.logEntry(c, outs[k].channel)
					maps.Copy(entry.Payload, outs[k].logged)
					a.log = append(append(a.log, entry), outs[k].generated...)
					a.written[outs[k].channel] = true
				}
				res.Generated = append(res.Generated, outs[k].generated...)
				res.Applied = append(res.Applied, Applied{Index: idx, ClientRev: c.ClientRev, entry: entry})
			case errors.As(e, &dis) && !a.atomic:
				res.Disallowed = append(res.Disallowed, changeError(idx, c, e))
			default:
				res.Errors = append(res.Errors, changeError(idx, c, e))
			}
		}
		i = j
	}
	if a.atomic && len(res.Errors) > 0 {
		return res, errRollback
	}
	return res, nil
}

// maxGroup bounds the changes applied together.
const maxGroup = 1000

func isNodeCreate(c Change) bool {
	return c.Table == TableContentNode && c.Type == models.ChangeCreated
}

func isNodeUpdate(c Change) bool {
	return c.Table == TableContentNode && c.Type == models.ChangeUpdated
}

func isNodeMove(c Change) bool {
	return c.Table == TableContentNode && c.Type == models.ChangeMoved
}

// groupEnd returns the end of the group of changes starting at i: a run of
// node creations (one bulk insert), a run of updates, moves, deletions,
// copies, question or file changes of distinct nodes, questions or files
// (read and written together), or else the one change.
func groupEnd(changes []Change, i int) int {
	j := i + 1
	switch {
	case isNodeCopy(changes[i]):
		// Copies of what the group copies, or into it, come after it.
		seen := map[string]bool{keyString(changes[i].Key): true}
		for j < len(changes) && j-i < maxGroup && isNodeCopy(changes[j]) && !seen[keyString(changes[j].Key)] &&
			(changes[j].FromKey == nil || !seen[changes[j].FromKey.String()]) &&
			(changes[j].Target == nil || !seen[changes[j].Target.String()]) {
			seen[keyString(changes[j].Key)] = true
			j++
		}
	case isNodeCreate(changes[i]):
		for j < len(changes) && j-i < maxGroup && isNodeCreate(changes[j]) {
			j++
		}
	case isNodeUpdate(changes[i]), isNodeMove(changes[i]), isNodeDelete(changes[i]), isItemChange(changes[i]), isFileWrite(changes[i]):
		same := isNodeUpdate
		switch {
		case isNodeMove(changes[i]):
			same = isNodeMove
		case isNodeDelete(changes[i]):
			same = isNodeDelete
		case isItemChange(changes[i]):
			same = isItemChange
		case isFileWrite(changes[i]):
			same = isFileWrite
		}
		seen := map[any]bool{keyString(changes[i].Key): true}
		for j < len(changes) && j-i < maxGroup && same(changes[j]) && !seen[keyString(changes[j].Key)] {
			seen[keyString(changes[j].Key)] = true
			j++
		}
	}
	return j
}

// keyString compares keys however they were given.
func keyString(key any) string {
	if id, err := keyID(key); err == nil {
		return id.String()
	}
	return fmt.Sprint(key)
}

// applyGroup applies changes that run together: one change, or a run of
// node creations. It returns one error (or nil) per change, and an error of
// its own when the batch cannot go on.
//
// Handlers check a change before they write, so a change that fails has
// written nothing, unless a statement failed (a constraint the checks did
// not foresee): then the savepoint is rolled back, and a group is applied
// again one change at a time so that only the bad ones fail.
func (a *applier) applyGroup(ctx context.Context, cs []Change) ([]error, []outcome, error) {
	if a.atomic {
		errs := a.dispatch(ctx, cs)
		if a.stmtFailed {
			return errs, a.outcomes, nil // the transaction is spoilt; the batch is refused anyway
		}
		return errs, a.outcomes, a.fatal
	}
	if err := a.savepoint(ctx, "SAVEPOINT"); err != nil {
		return nil, nil, err
	}
	errs := a.dispatch(ctx, cs)
	if a.fatal != nil {
		return nil, nil, a.fatal
	}
	if !a.stmtFailed && (len(cs) > 1 || errs[0] == nil) {
		return errs, a.outcomes, a.savepoint(ctx, "RELEASE SAVEPOINT")
	}
	if err := a.savepoint(ctx, "ROLLBACK TO SAVEPOINT"); err != nil {
		return nil, nil, err
	}
	a.forget()
	a.stmtFailed = false
	if len(cs) == 1 {
		return errs, a.outcomes, nil
	}
	outErrs, outs := make([]error, len(cs)), make([]outcome, len(cs))
	for k := range cs {
		e, o, err := a.applyGroup(ctx, cs[k:k+1])
		if err != nil {
			return nil, nil, err
		}
		outErrs[k], outs[k] = e[0], o[0]
	}
	return outErrs, outs, nil
}

func (a *applier) savepoint(ctx context.Context, verb string) error {
	if _, err := a.tx.ExecContext(ctx, verb+" change"); err != nil {
		return fmt.Errorf("db: %s: %w", verb, err)
	}
	return nil
}

// dispatch runs the handler of a change's table and type.
func (a *applier) dispatch(ctx context.Context, cs []Change) []error {
	a.outcomes = make([]outcome, len(cs))
	if isNodeCreate(cs[0]) {
		return a.createNodes(ctx, cs)
	}
	if isNodeUpdate(cs[0]) {
		return a.updateNodes(ctx, cs)
	}
	if isNodeMove(cs[0]) {
		return a.moveNodes(ctx, cs)
	}
	if isNodeDelete(cs[0]) {
		return a.deleteNodes(ctx, cs)
	}
	if isNodeCopy(cs[0]) {
		return a.copyNodes(ctx, cs)
	}
	if isItemChange(cs[0]) {
		return a.writeItems(ctx, cs)
	}
	if isFileWrite(cs[0]) {
		return a.writeFiles(ctx, cs)
	}
	c := cs[0]
	var err error
	switch c.Table {
	case TableContentNode:
		switch c.Type {
		case models.ChangeUpdatedDescendants:
			err = a.updateDescendants(ctx, c)
		default:
			err = notAllowed(c)
		}
	case TableChannel:
		switch c.Type {
		case models.ChangeCreated:
			err = a.createChannel(ctx, c)
		case models.ChangeUpdated, models.ChangeDeleted:
			err = a.updateChannel(ctx, c)
		case models.ChangePublished:
			err = models.Errorf(models.CodeBadUserInput, "publishing is not available yet")
		default:
			err = notAllowed(c)
		}
	case TableEditor, TableViewer, tableMember:
		switch c.Type {
		case models.ChangeCreated:
			err = a.addMember(ctx, c, memberRole(c.Table))
		case models.ChangeDeleted:
			err = a.removeMember(ctx, c, memberRole(c.Table))
		default:
			err = notAllowed(c)
		}
	case TableFile:
		switch c.Type {
		case models.ChangeCreated:
			err = badField("table", "files are created by uploading them (uploadFile), not by changes")
		default:
			err = notAllowed(c)
		}
	case TablePrerequisite:
		switch c.Type {
		case models.ChangeCreated:
			err = a.addPrerequisite(ctx, c)
		case models.ChangeDeleted:
			err = a.removePrerequisite(ctx, c)
		default:
			err = notAllowed(c)
		}
	default:
		err = models.Errorf(models.CodeBadUserInput, "table %q is not one studio applies changes to; the tables are contentnode, channel, assessmentitem, file, contentnode_prerequisite, editor_m2m and viewer_m2m", c.Table)
	}
	return []error{a.classify(err)}
}

// classify separates a change's own failure from one that ends the batch:
// errors with a code, and constraint violations caused by the change's data,
// belong to the change; anything else (a lost connection) is fatal.
func (a *applier) classify(err error) error {
	var me *models.Error
	var dis errDisallowed
	switch {
	case err == nil, errors.As(err, &me), errors.As(err, &dis):
		return err
	case isStatementError(err):
		a.stmtFailed = true // the savepoint must be rolled back
		return conflictError(err)
	}
	a.fatal = err
	return err
}

func notAllowed(c Change) error {
	return models.Errorf(models.CodeBadUserInput, "change type %d is not allowed on table %s", c.Type, c.Table)
}

func changeError(idx int, c Change, err error) ChangeError {
	ce := ChangeError{Index: idx, ClientRev: c.ClientRev, Code: models.CodeOf(err), Message: err.Error()}
	var dis errDisallowed
	if errors.As(err, &dis) && ce.Code == models.CodeInternal {
		ce.Code = models.CodeForbidden
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		ce.Field = fe.field
	}
	return ce
}

// atomicError is the one error of a refused atomic batch: it names every bad
// change by index.
func atomicError(res *Result, n int) error {
	e := &models.Error{}
	codes := map[models.Code]bool{}
	for _, ce := range res.Errors {
		e.Items = append(e.Items, models.ItemError{Index: ce.Index, Field: ce.Field, Code: ce.Code, Message: ce.Message})
		codes[ce.Code] = true
	}
	if n == 1 && len(res.Errors) == 1 {
		// One change: its own error says it all, and items says it as
		// for many, so that a form reads one shape.
		e.Code, e.Message = res.Errors[0].Code, res.Errors[0].Message
		return e
	}
	e.Code = models.CodeBadUserInput
	if len(codes) == 1 {
		for c := range codes {
			e.Code = c
		}
	}
	if len(e.Items) == 1 {
		e.Message = fmt.Sprintf("item %d: %s; nothing was changed", e.Items[0].Index, e.Items[0].Message)
	} else {
		e.Message = fmt.Sprintf("%d items are invalid (see extensions.items); nothing was changed", len(e.Items))
	}
	return e
}

// fieldError is a BAD_USER_INPUT error about one field of a change.
type fieldError struct {
	field string
	err   *models.Error
}

func (e *fieldError) Error() string { return e.err.Message }
func (e *fieldError) Unwrap() error { return e.err }

// inField blames field for err, a client's mistake (*models.Error).
func inField(field string, err error) error {
	var me *models.Error
	if errors.As(err, &me) {
		return &fieldError{field: field, err: me}
	}
	return err
}

func badField(field, format string, args ...any) error {
	return &fieldError{field: field, err: models.Errorf(models.CodeBadUserInput, "%s: "+format, append([]any{field}, args...)...)}
}
