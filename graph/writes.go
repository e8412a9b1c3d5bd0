package graph

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"studio/db"
	"studio/models"
)

// The typed mutations are thin: each turns its input into changes for the
// one write path (db.Apply, atomic), then reads back what it wrote.

// maxBatch is also the most items one bulk mutation takes.
func checkBatch(n int) error {
	if n > maxBatch {
		return models.Errorf(models.CodeBadUserInput, "at most %d items a call; you sent %d: split them into several calls", maxBatch, n)
	}
	return nil
}

// apply applies changes atomically as the caller.
func (r *Resolver) apply(ctx context.Context, changes []db.Change) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if err := checkBatch(len(changes)); err != nil {
		return err
	}
	_, err = r.DB.Apply(ctx, u, changes, true)
	loadersFrom(ctx).forget()
	return err
}

// freshNodes reads nodes as a write left them, in the order given.
func (r *Resolver) freshNodes(ctx context.Context, ids []models.ID) ([]*models.ContentNode, error) {
	got, err := r.DB.NodesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx)
	out := make([]*models.ContentNode, 0, len(ids))
	for _, id := range ids {
		if n, ok := got[id]; ok { // absent: deleted by a later item of the same call
			l.Nodes.Prime(ctx, id, n)
			out = append(out, n)
		}
	}
	return out, nil
}

func position(p *models.Position) db.Position {
	if p == nil {
		return ""
	}
	return map[models.Position]db.Position{
		models.PositionFirstChild: db.FirstChild, models.PositionLastChild: db.LastChild,
		models.PositionLeft: db.Left, models.PositionRight: db.Right,
	}[*p]
}

// obj collects the fields a client set, under Studio's names.
type obj map[string]any

func (o obj) str(key string, v *string) {
	if v != nil {
		o[key] = *v
	}
}

// nodeFields sets the node fields given in in, a typed input (a pointer to
// a struct), under their columns: each of in's fields whose GraphQL name is
// a ContentNode field of models.NodeFields that clients set, unless it is
// null.
func (o obj) nodeFields(in any) {
	v := reflect.ValueOf(in).Elem()
	for i, sf := range reflect.VisibleFields(v.Type()) {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		f := models.NodeFieldByGraphQL(name)
		fv := v.Field(i)
		switch {
		case f == nil || f.Has(models.ReadOnly) && !f.Has(models.SetOnCreate):
		case fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface || fv.Kind() == reflect.Slice:
			if fv.IsNil() {
				continue
			}
			if f.Type == models.FieldLabels {
				o.labels(f.Column, fv.Interface().([]string))
			} else {
				o[f.Column] = reflect.Indirect(fv).Interface()
			}
		default:
			o[f.Column] = fv.Interface()
		}
	}
}

func (o obj) labels(key string, ids []string) {
	if ids != nil {
		m := map[string]any{}
		for _, id := range ids {
			m[id] = true
		}
		o[key] = m
	}
}

func (r *Resolver) createNodes(ctx context.Context, in []*models.CreateContentNodeInput) ([]*models.ContentNode, error) {
	changes := make([]db.Change, len(in))
	ids := make([]models.ID, len(in))
	for i, n := range in {
		ids[i] = models.NewID()
		if n.ID != nil {
			ids[i] = *n.ID
		}
		o := obj{"parent": n.ParentID}
		o.nodeFields(n)
		o.labels("tags", n.Tags)
		pos := position(n.Position)
		if pos == db.Left || pos == db.Right {
			return nil, models.Errorf(models.CodeBadUserInput, "item %d: a new node goes FIRST_CHILD or LAST_CHILD of its parent; move it afterwards to place it elsewhere", i)
		}
		changes[i] = db.Change{Type: models.ChangeCreated, Table: db.TableContentNode, Key: ids[i], Obj: o, Position: pos}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return r.freshNodes(ctx, ids)
}

func (r *Resolver) updateNodes(ctx context.Context, in []*models.UpdateContentNodeInput) ([]*models.ContentNode, error) {
	changes := make([]db.Change, len(in))
	ids := make([]models.ID, len(in))
	for i, n := range in {
		ids[i] = n.ID
		mods, err := jsonObject("mods", n.Mods)
		if err != nil {
			return nil, err
		}
		o := obj(mods)
		if o == nil {
			o = obj{}
		}
		o.nodeFields(n)
		for _, t := range n.AddTags {
			o["tags."+t] = true
		}
		for _, t := range n.RemoveTags {
			o["tags."+t] = nil
		}
		changes[i] = db.Change{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n.ID, Mods: o}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return r.freshNodes(ctx, ids)
}

// moveNodes keeps the nodes in the order given: after the first, each goes
// right of the one before when the position would otherwise reverse them.
func (r *Resolver) moveNodes(ctx context.Context, ids []models.ID, target models.ID, p *models.Position) ([]*models.ContentNode, error) {
	pos := position(p)
	changes := make([]db.Change, len(ids))
	for i, id := range ids {
		t, ps := target, pos
		if i > 0 && (pos == db.FirstChild || pos == db.Right) {
			t, ps = ids[i-1], db.Right
		}
		changes[i] = db.Change{Type: models.ChangeMoved, Table: db.TableContentNode, Key: id, Target: &t, Position: ps}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return r.freshNodes(ctx, ids)
}

func (r *Resolver) copyNodes(ctx context.Context, in []*models.CopyContentNodeInput) ([]*models.ContentNode, error) {
	changes := make([]db.Change, len(in))
	ids := make([]models.ID, len(in))
	for i, c := range in {
		ids[i] = models.NewID()
		if c.ID != nil {
			ids[i] = *c.ID
		}
		mods, err := jsonObject("mods", c.Mods)
		if err != nil {
			return nil, err
		}
		src, target := c.SourceID, c.Target
		changes[i] = db.Change{Type: models.ChangeCopied, Table: db.TableContentNode, Key: ids[i], FromKey: &src,
			Target: &target, Position: position(c.Position), Mods: mods, ExcludedDescendants: c.ExcludedDescendants}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return r.freshNodes(ctx, ids)
}

// deleteNodes moves nodes to their channel's trash (Studio's delete), or
// deletes them for good.
//
// The caller and the count are checked before any node is read (apply
// checks them again), so that a refused call costs no SQL.
func (r *Resolver) deleteNodes(ctx context.Context, ids []models.ID, permanent bool) ([]models.ID, error) {
	if _, err := requireUser(ctx); err != nil {
		return nil, err
	}
	if err := checkBatch(len(ids)); err != nil {
		return nil, err
	}
	changes := make([]db.Change, len(ids))
	var nodes []*models.ContentNode
	if !permanent {
		var err error
		if nodes, err = loadersFrom(ctx).visibleNodes(ctx, ids); err != nil {
			return nil, err
		}
	}
	for i, id := range ids {
		if permanent {
			changes[i] = db.Change{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: id}
			continue
		}
		// The trash of the node's channel; a node the caller cannot see
		// gets no target, and the move reports it as not found.
		var trash models.ID
		if n := nodes[i]; n != nil {
			ca, err := load(ctx, loadersFrom(ctx).Channels, n.ChannelID) // primed by visibleNodes
			if err != nil {
				return nil, err
			}
			trash = ca.TrashRootID
		}
		changes[i] = db.Change{Type: models.ChangeMoved, Table: db.TableContentNode, Key: id, Target: &trash, Position: db.LastChild}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return ids, nil
}

func (r *Resolver) updateDescendants(ctx context.Context, id models.ID, mods any) (*models.ContentNode, error) {
	m, err := jsonObject("mods", mods)
	if err != nil {
		return nil, err
	}
	if err := r.apply(ctx, []db.Change{{Type: models.ChangeUpdatedDescendants, Table: db.TableContentNode, Key: id, Mods: m}}); err != nil {
		return nil, err
	}
	ns, err := r.freshNodes(ctx, []models.ID{id})
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	return ns[0], nil
}

type itemFields struct {
	typ, question, rawData *string
	answers, hints         any
	order                  *int
	randomize              *bool
}

func (f itemFields) obj() obj {
	o := obj{}
	o.str("type", f.typ)
	o.str("question", f.question)
	o.str("raw_data", f.rawData)
	if f.answers != nil {
		o["answers"] = f.answers
	}
	if f.hints != nil {
		o["hints"] = f.hints
	}
	if f.order != nil {
		o["order"] = *f.order
	}
	if f.randomize != nil {
		o["randomize"] = *f.randomize
	}
	return o
}

func (r *Resolver) writeItems(ctx context.Context, typ models.ChangeType, keys [][2]models.ID, fields []itemFields) ([]*models.AssessmentItem, error) {
	changes := make([]db.Change, len(keys))
	for i, k := range keys {
		c := db.Change{Type: typ, Table: db.TableAssessmentItem, Key: []models.ID{k[0], k[1]}}
		if typ == models.ChangeCreated {
			c.Obj = fields[i].obj()
		} else {
			c.Mods = fields[i].obj()
		}
		changes[i] = c
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return r.DB.AssessmentItemsByKey(ctx, keys)
}

func (r *Resolver) createItems(ctx context.Context, in []*models.CreateAssessmentItemInput) ([]*models.AssessmentItem, error) {
	keys, fields := make([][2]models.ID, len(in)), make([]itemFields, len(in))
	for i, it := range in {
		aid := models.NewID()
		if it.AssessmentID != nil {
			aid = *it.AssessmentID
		}
		keys[i] = [2]models.ID{it.NodeID, aid}
		fields[i] = itemFields{&it.Type, &it.Question, it.RawData, it.Answers, it.Hints, it.Order, it.Randomize}
	}
	return r.writeItems(ctx, models.ChangeCreated, keys, fields)
}

func (r *Resolver) updateItems(ctx context.Context, in []*models.UpdateAssessmentItemInput) ([]*models.AssessmentItem, error) {
	keys, fields := make([][2]models.ID, len(in)), make([]itemFields, len(in))
	for i, it := range in {
		keys[i] = [2]models.ID{it.NodeID, it.AssessmentID}
		fields[i] = itemFields{it.Type, it.Question, it.RawData, it.Answers, it.Hints, it.Order, it.Randomize}
	}
	return r.writeItems(ctx, models.ChangeUpdated, keys, fields)
}

func (r *Resolver) deleteItems(ctx context.Context, in []*models.AssessmentItemKey) ([]*models.AssessmentItemRef, error) {
	changes := make([]db.Change, len(in))
	out := make([]*models.AssessmentItemRef, len(in))
	for i, k := range in {
		changes[i] = db.Change{Type: models.ChangeDeleted, Table: db.TableAssessmentItem, Key: []models.ID{k.NodeID, k.AssessmentID}}
		out[i] = &models.AssessmentItemRef{NodeID: k.NodeID, AssessmentID: k.AssessmentID}
	}
	if slices.Contains(graphql.CollectAllFields(ctx), "id") {
		// The questions' own ids, read before they go: one statement.
		keys := make([][2]models.ID, len(in))
		for i, k := range in {
			keys[i] = [2]models.ID{k.NodeID, k.AssessmentID}
		}
		items, err := r.DB.AssessmentItemsByKey(ctx, keys)
		if err != nil {
			return nil, err
		}
		byKey := map[[2]models.ID]models.ID{}
		for _, it := range items {
			byKey[[2]models.ID{it.NodeID, it.AssessmentID}] = it.ID
		}
		for i, k := range keys {
			if id, ok := byKey[k]; ok {
				out[i].ID = &id
			}
		}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Resolver) prerequisites(ctx context.Context, typ models.ChangeType, in []*models.PrerequisiteInput) ([]*models.ContentNode, error) {
	changes := make([]db.Change, len(in))
	ids := make([]models.ID, len(in))
	for i, p := range in {
		ids[i] = p.NodeID
		changes[i] = db.Change{Type: typ, Table: db.TablePrerequisite, Key: []models.ID{p.NodeID, p.PrerequisiteID}}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return r.freshNodes(ctx, ids)
}
