package db

import (
	"context"
	"fmt"
	"sort"

	"studio/models"
)

// Siblings are ordered by a float sort_order. A node placed between two
// neighbours takes the midpoint, so an insert or a move writes one row;
// only when two neighbours are too close for a midpoint are the siblings
// renumbered 1, 2, 3, … (Studio's MPTT instead renumbers half a tree on
// every insert, and deadlocks).

// siblings caches the order of one parent's children in a transaction.
type siblings struct {
	// list is every child, sorted, once loaded; until then only the ends
	// that were asked for are known.
	list       []sibling
	loaded     bool
	first      *float64
	last       *float64
	haveBounds bool
}

type sibling struct {
	order float64
	id    models.ID
}

func (a *applier) siblingsOf(parent models.ID) *siblings {
	if a.siblings == nil {
		a.siblings = map[models.ID]*siblings{}
	}
	s, ok := a.siblings[parent]
	if !ok {
		s = &siblings{}
		a.siblings[parent] = s
	}
	return s
}

// bounds loads the smallest and largest sort_order under parent, for placing
// first or last without reading every child.
func (a *applier) bounds(ctx context.Context, parent models.ID, s *siblings) error {
	if s.loaded || s.haveBounds {
		return nil
	}
	if err := a.flushMoves(ctx); err != nil { // the rows read must be as the moves leave them
		return err
	}
	var row struct {
		Min *float64 `bun:"lo"`
		Max *float64 `bun:"hi"`
	}
	err := a.tx.NewSelect().Model((*models.ContentNode)(nil)).
		ColumnExpr("min(cn.sort_order) AS lo, max(cn.sort_order) AS hi").
		Where("cn.parent_id = ?", parent).Scan(ctx, &row)
	if err != nil {
		return fmt.Errorf("db: sibling bounds: %w", err)
	}
	s.first, s.last, s.haveBounds = row.Min, row.Max, true
	return nil
}

// loadSiblings reads every child of parent in order.
func (a *applier) loadSiblings(ctx context.Context, parent models.ID, s *siblings) error {
	if s.loaded {
		return nil
	}
	var rows []struct {
		ID        models.ID `bun:"id"`
		SortOrder float64   `bun:"sort_order"`
	}
	err := a.tx.NewSelect().Model((*models.ContentNode)(nil)).Column("id", "sort_order").
		Where("cn.parent_id = ?", parent).OrderExpr("cn.sort_order, cn.id").Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("db: load siblings: %w", err)
	}
	s.list = s.list[:0]
	pending := a.moves.byID()
	for _, r := range rows {
		if _, moved := pending[r.ID]; !moved {
			s.list = append(s.list, sibling{r.SortOrder, r.ID})
		}
	}
	// Moves not written yet are placed as they will be.
	if len(pending) > 0 {
		for _, n := range pending {
			if *n.ParentID == parent {
				s.list = append(s.list, sibling{n.SortOrder, n.ID})
			}
		}
		sort.Slice(s.list, func(i, j int) bool {
			x, y := s.list[i], s.list[j]
			return x.order < y.order || x.order == y.order && x.id.String() < y.id.String()
		})
	}
	s.loaded = true
	s.first, s.last = nil, nil
	if len(s.list) > 0 {
		s.first, s.last = &s.list[0].order, &s.list[len(s.list)-1].order
	}
	return nil
}

// place returns the sort_order for node id put at pos relative to target
// (the parent for first-child and last-child, a sibling for left and right),
// under parent, and records it. The node must not be among the children
// already (callers remove a moved node first).
func (a *applier) place(ctx context.Context, parent models.ID, pos Position, target models.ID, id models.ID) (float64, error) {
	s := a.siblingsOf(parent)
	switch pos {
	case LastChild, FirstChild:
		if err := a.bounds(ctx, parent, s); err != nil {
			return 0, err
		}
		var order float64
		switch {
		case pos == LastChild && s.last != nil:
			order = *s.last + 1
		case pos == FirstChild && s.first != nil:
			order = *s.first - 1
		default:
			order = 1
		}
		if s.first == nil || order < *s.first {
			s.first = &order
		}
		if s.last == nil || order > *s.last {
			s.last = &order
		}
		s.insert(sibling{order, id})
		return order, nil
	}
	if err := a.loadSiblings(ctx, parent, s); err != nil {
		return 0, err
	}
	at := s.index(target)
	if at < 0 {
		return 0, models.Errorf(models.CodeNotFound, "target %s is not a child of %s", target, parent)
	}
	if pos == Right {
		at++
	}
	order, ok := s.between(at)
	if !ok {
		if err := a.renumber(ctx, s); err != nil {
			return 0, err
		}
		order, _ = s.between(at)
	}
	s.list = append(s.list, sibling{})
	copy(s.list[at+1:], s.list[at:])
	s.list[at] = sibling{order, id}
	s.first, s.last = &s.list[0].order, &s.list[len(s.list)-1].order
	return order, nil
}

// between is an order for a new sibling at index at of the loaded list,
// false when its neighbours leave no room.
func (s *siblings) between(at int) (float64, bool) {
	switch {
	case len(s.list) == 0:
		return 1, true
	case at == 0:
		return s.list[0].order - 1, true
	case at == len(s.list):
		return s.list[at-1].order + 1, true
	}
	lo, hi := s.list[at-1].order, s.list[at].order
	mid := lo + (hi-lo)/2
	return mid, lo < mid && mid < hi
}

func (s *siblings) index(id models.ID) int {
	for i, c := range s.list {
		if c.id == id {
			return i
		}
	}
	return -1
}

// insert adds a sibling placed at an end to a loaded list.
func (s *siblings) insert(c sibling) {
	if !s.loaded {
		return
	}
	i := sort.Search(len(s.list), func(i int) bool { return s.list[i].order > c.order })
	s.list = append(s.list, sibling{})
	copy(s.list[i+1:], s.list[i:])
	s.list[i] = c
}

// unplace forgets a child that moved away.
func (a *applier) unplace(parent, id models.ID) {
	s, ok := a.siblings[parent]
	if !ok {
		return
	}
	if i := s.index(id); i >= 0 {
		s.list = append(s.list[:i], s.list[i+1:]...)
	}
	if s.loaded && len(s.list) > 0 {
		s.first, s.last = &s.list[0].order, &s.list[len(s.list)-1].order
	} else if s.loaded {
		s.first, s.last = nil, nil
	} else {
		s.haveBounds = false // the removed child may have been an end
	}
}

// renumber spaces a parent's children (s) out as 1, 2, 3, … in their order.
func (a *applier) renumber(ctx context.Context, s *siblings) error {
	for i := range s.list {
		s.list[i].order = float64(i + 1)
		_, err := a.tx.NewUpdate().Model((*models.ContentNode)(nil)).Set("sort_order = ?", s.list[i].order).
			Where("id = ?", s.list[i].id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("db: renumber siblings: %w", err)
		}
		if n, ok := a.nodes[s.list[i].id]; ok {
			n.SortOrder = s.list[i].order
		}
	}
	return nil
}
