package graph

import (
	"context"
	"time"

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
	changes := make([]db.Change, len(in))
	for i, c := range in {
		obj, err := jsonObject("obj", c.Obj)
		if err != nil {
			return nil, itemError(i, err)
		}
		mods, err := jsonObject("mods", c.Mods)
		if err != nil {
			return nil, itemError(i, err)
		}
		changes[i] = db.Change{Type: c.Type, Table: c.Table, Key: c.Key, ChannelID: c.ChannelID, Obj: obj, Mods: mods,
			Target: c.Target, Position: position(c.Position), FromKey: c.FromKey, ExcludedDescendants: c.ExcludedDescendants}
		if c.ClientRev != nil {
			rev := int64(*c.ClientRev)
			changes[i].ClientRev = &rev
		}
	}
	res, err := r.DB.Apply(ctx, u, changes, atomic)
	loadersFrom(ctx).forget()
	if res == nil {
		return nil, err
	}
	// Refused atomically, the batch is still reported change by change.
	out := &models.SyncResult{Allowed: []*models.AllowedChange{}, Disallowed: changeErrors(res.Disallowed),
		Errors: changeErrors(res.Errors), Changes: res.Generated}
	if err == nil {
		for _, a := range res.Applied {
			out.Allowed = append(out.Allowed, &models.AllowedChange{Index: a.Index, ClientRev: intPtr(a.ClientRev), ServerRev: int(a.ServerRev)})
		}
	} else {
		out.Changes = []*models.Change{}
	}
	return out, nil
}

func itemError(i int, err error) error {
	return &models.Error{Code: models.CodeBadUserInput, Message: err.Error(),
		Items: []models.ItemError{{Index: i, Message: err.Error()}}}
}

func changeErrors(ces []db.ChangeError) []*models.ChangeError {
	out := make([]*models.ChangeError, len(ces))
	for i, ce := range ces {
		out[i] = &models.ChangeError{Index: ce.Index, ClientRev: intPtr(ce.ClientRev), Code: string(ce.Code), Message: ce.Message}
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
	switch {
	case err != nil:
		return err
	case !ca.Access.CanView():
		return models.Errorf(models.CodeNotFound, "channel %s does not exist or you cannot see it", channelID)
	case ca.Access < db.ViewAccess:
		return models.Errorf(models.CodeForbidden, "only members of channel %s may read its changes", channelID)
	}
	return nil
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
func payloadID(c *models.Change, key string) *models.ID {
	switch v := c.Payload[key].(type) {
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
