package graph

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"studio/db"
	"studio/models"
)

// maxChangesPage is the most changes one page of a change log holds, as Studio's.
const maxChangesPage = 200

func (r *Resolver) applyChanges(ctx context.Context, in []*models.ChangeInput, atomic bool) (*models.SyncResult, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkBatch(len(in)); err != nil {
		return nil, err
	}
	changes := make([]db.Change, 0, len(in))
	// A change whose obj or mods is not an object is refused on its own
	// (the whole batch when atomic); inputIndex[k] is changes[k]'s index in in.
	var refused []*models.ChangeError
	inputIndex := make([]int, 0, len(in))
	for i, c := range in {
		obj, err := jsonObject("obj", c.Obj)
		var mods map[string]any
		if err == nil {
			mods, err = jsonObject("mods", c.Mods)
		}
		if err != nil {
			if atomic {
				return nil, itemError(i, err)
			}
			refused = append(refused, &models.ChangeError{Index: i, ClientRev: c.ClientRev, Code: string(models.CodeOf(err)), Message: err.Error()})
			continue
		}
		ch := db.Change{Type: c.Type, Table: c.Table, Key: c.Key, ChannelID: c.ChannelID, Obj: obj, Mods: mods,
			Target: c.Target, Position: position(c.Position), FromKey: c.FromKey, ExcludedDescendants: c.ExcludedDescendants}
		if c.ClientRev != nil {
			rev := int64(*c.ClientRev)
			ch.ClientRev = &rev
		}
		changes = append(changes, ch)
		inputIndex = append(inputIndex, i)
	}
	res := &db.Result{}
	if len(changes) > 0 {
		res, err = r.DB.Apply(ctx, u, changes, atomic)
		loadersFrom(ctx).forget()
		if res == nil {
			return nil, err
		}
	}
	// Refused atomically, the batch is still reported change by change.
	out := &models.SyncResult{Allowed: []*models.AllowedChange{}, Disallowed: changeErrors(res.Disallowed, inputIndex),
		Errors: mergeChangeErrors(changeErrors(res.Errors, inputIndex), refused), Changes: res.Generated}
	if out.Changes == nil {
		out.Changes = []*models.Change{}
	}
	if err == nil {
		for _, a := range res.Applied {
			out.Allowed = append(out.Allowed, &models.AllowedChange{Index: inputIndex[a.Index], ClientRev: intPtr(a.ClientRev), ServerRev: int(a.ServerRev)})
		}
	} else {
		out.Changes = []*models.Change{}
	}
	return out, nil
}

// mergeChangeErrors merges two lists of change errors, each in index order, into one.
func mergeChangeErrors(a, b []*models.ChangeError) []*models.ChangeError {
	out := append(a, b...)
	slices.SortStableFunc(out, func(x, y *models.ChangeError) int { return x.Index - y.Index })
	return out
}

func itemError(i int, err error) error {
	return &models.Error{Code: models.CodeBadUserInput, Message: err.Error(),
		Items: []models.ItemError{{Index: i, Message: err.Error()}}}
}

// changeErrors converts the db's errors, whose indexes count the changes
// applied, to the API's, whose indexes count the input (inputIndex).
func changeErrors(ces []db.ChangeError, inputIndex []int) []*models.ChangeError {
	out := make([]*models.ChangeError, len(ces))
	for i, ce := range ces {
		out[i] = &models.ChangeError{Index: inputIndex[ce.Index], ClientRev: intPtr(ce.ClientRev), Code: string(ce.Code), Message: ce.Message}
		if ce.Field != "" {
			out[i].Field = &ce.Field
		}
	}
	return out
}

func intPtr(v *int64) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

// feedAccess checks the caller may read a channel's change log: members and admins.
func feedAccess(ctx context.Context, channelID models.ID) error {
	ca, err := load(ctx, loadersFrom(ctx).Channels, channelID)
	if err != nil {
		return err
	}
	return feedAccessOf(ca, channelID)
}

func feedAccessOf(ca db.ChannelAccess, channelID models.ID) error {
	switch {
	case !ca.Access.CanView():
		return models.Errorf(models.CodeNotFound, "channel %s does not exist or you cannot see it", channelID)
	case ca.Access < db.ViewAccess:
		return models.Errorf(models.CodeForbidden, "only members of channel %s may read its changes", channelID)
	}
	return nil
}

// feedAccessNow asks the database again, past the operation's loaders,
// whether the caller may still read a channel's log: a live subscription
// outlasts the membership it started with.
func (r *Resolver) feedAccessNow(ctx context.Context, channelID models.ID) error {
	got, err := r.DB.ChannelsByID(ctx, userFrom(ctx), []models.ID{channelID})
	if err != nil {
		return err
	}
	return feedAccessOf(got[channelID], channelID)
}

// endSubscription tells a websocket subscriber why its subscription ends;
// over SSE the stream just ends. Only refusals are sent: other errors
// (a cancelled context, a lost database) end it silently, and the client
// resubscribes.
func endSubscription(ctx context.Context, field string, err error) {
	var me *models.Error
	if wsConnFrom(ctx) == nil || !errors.As(err, &me) {
		return
	}
	transport.AddSubscriptionError(ctx, &gqlerror.Error{Message: me.Message, Path: ast.Path{ast.PathName(field)},
		Extensions: map[string]any{"code": string(me.Code)}})
}

func (r *Resolver) changes(ctx context.Context, channelID models.ID, since int, first *int) (*models.ChangePage, error) {
	n := pageSize(first, maxChangesPage)
	if n < 1 || n > maxChangesPage {
		return nil, models.Errorf(models.CodeBadUserInput, "first must be between 1 and %d, got %d", maxChangesPage, n)
	}
	if err := feedAccess(ctx, channelID); err != nil {
		return nil, err
	}
	cs, err := r.DB.ChangesSince(ctx, channelID, int64(since), n+1)
	if err != nil {
		return nil, err
	}
	p := &models.ChangePage{Changes: cs, MaxRev: since}
	if len(cs) > n {
		p.Changes, p.HasMore = cs[:n], true
	}
	if len(p.Changes) > 0 {
		p.MaxRev = int(p.Changes[len(p.Changes)-1].ServerRev)
	}
	return p, nil
}

// channelChanges streams a channel's log: it registers for wake-ups first,
// then reads what is after since, then reads again at each wake-up from the
// last rev it sent. Reading the log, not the wake-ups, decides what is sent,
// so nothing is lost or sent twice, whichever instance wrote it.
func (r *Resolver) channelChanges(ctx context.Context, channelID models.ID, since *int) (<-chan *models.Change, error) {
	if err := feedAccess(ctx, channelID); err != nil {
		return nil, err
	}
	if since != nil && *since < 0 {
		return nil, models.Errorf(models.CodeBadUserInput, "since must be 0 or more")
	}
	wake, stop := r.DB.Subscribe(channelID)
	var last int64
	if since != nil {
		last = int64(*since)
	} else {
		rev, err := r.DB.MaxRev(ctx, channelID)
		if err != nil {
			stop()
			return nil, err
		}
		last = rev
	}
	out := make(chan *models.Change, 64)
	go func() {
		defer close(out)
		defer stop()
		for {
			cs, err := r.DB.ChangesSince(ctx, channelID, last, maxChangesPage)
			if err != nil {
				return // the context ended, or the database is gone: the client resubscribes
			}
			// Access is checked after the read, so what was read committed
			// while the caller could still see it: a removed member gets
			// nothing more, not even the change that removed them. One
			// statement per read that found changes.
			if len(cs) > 0 {
				if err := r.feedAccessNow(ctx, channelID); err != nil {
					endSubscription(ctx, "channelChanges", err)
					return
				}
				// The nodes these changes link to are read as they are now,
				// not as the subscription's loaders first saw them.
				loadersFrom(ctx).forget()
			}
			for _, c := range cs {
				select {
				case out <- c:
					last = c.ServerRev
				case <-ctx.Done():
					return
				}
			}
			if len(cs) == maxChangesPage {
				continue
			}
			select {
			case <-wake:
			case <-time.After(30 * time.Second): // a safety net; wake-ups do the work
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// payloadID reads an id stored in a change's payload.
func payloadID(c *models.Change, key string) *models.ID { return anyID(c.Payload[key]) }

// anyID reads an id as the log holds it: an ID (a change just made) or its
// string (read back); nil for anything else.
func anyID(v any) *models.ID {
	switch v := v.(type) {
	case string:
		if id, err := models.ParseID(v); err == nil {
			return &id
		}
	case models.ID:
		return &v
	}
	return nil
}

func payloadPosition(c *models.Change) *models.Position {
	p := map[string]models.Position{string(db.FirstChild): models.PositionFirstChild, string(db.LastChild): models.PositionLastChild,
		string(db.Left): models.PositionLeft, string(db.Right): models.PositionRight}
	var s string
	switch v := c.Payload["position"].(type) {
	case string:
		s = v
	case db.Position:
		s = string(v)
	}
	if pos, ok := p[s]; ok {
		return &pos
	}
	return nil
}

func payloadIDs(c *models.Change, key string) []models.ID {
	var out []models.ID
	switch v := c.Payload[key].(type) {
	case []models.ID:
		return v
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				if id, err := models.ParseID(s); err == nil {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// changedNode is the node a contentnode change is about, as the caller may
// see it now; nil for other tables.
func changedNode(ctx context.Context, c *models.Change) (*models.ContentNode, error) {
	if c.Table != db.TableContentNode {
		return nil, nil
	}
	id := anyID(c.Key)
	if id == nil {
		return nil, nil // a key that names no node
	}
	return visibleNode(ctx, *id)
}
