package graph

import (
	"context"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// measured is what a selection set asks: the levels of fields in it, its
// aliases and its cost, with fragments expanded.
type measured struct {
	depth, aliases, cost int
}

// walker measures an operation in time linear in its document: a
// fragment's depth, aliases and cost depend on the fragment alone (gqlgen's
// cost of a field depends on the field's own type and arguments, never on
// where the fragment is spread), so each is computed on its first spread
// and reused. Expanding every spread instead, as gqlgen's complexity
// package does, lets a kilobyte of fragments spreading each other ten times
// cost 10^9 steps.
type walker struct {
	l      *Limits
	ctx    context.Context
	schema *ast.Schema
	vars   map[string]any
	frags  ast.FragmentDefinitionList
	// memo holds each fragment's measure, depth counted from the level it is
	// spread at; nil while it is being measured (a cycle, which validation
	// refuses anyway, then adds nothing).
	memo  map[string]*measured
	steps int // selections visited, for tests
	err   *gqlerror.Error
}

// measure checks an operation's depth, aliases and cost, stopping at the
// first limit exceeded. steps is the number of selections it visited.
func (l *Limits) measure(ctx context.Context, op *ast.OperationDefinition, frags ast.FragmentDefinitionList, vars map[string]any) (m measured, steps int, err *gqlerror.Error) {
	w := &walker{l: l, ctx: ctx, vars: vars, frags: frags, memo: map[string]*measured{}}
	if l.schema != nil {
		w.schema = l.schema.Schema()
	}
	m = w.set(op.SelectionSet, 1)
	if w.err != nil {
		return m, w.steps, w.err
	}
	if m.cost > l.MaxComplexity {
		err := tooComplex("the query costs %d, more than %d: ask for smaller pages (first) or fewer levels", m.cost, l.MaxComplexity)
		err.Extensions["cost"] = m.cost
		err.Extensions["maxCost"] = l.MaxComplexity
		return m, w.steps, err
	}
	return m, w.steps, nil
}

// set measures a selection set whose fields are at level; the depth it
// returns is the deepest level reached (level-1 when there are no fields).
func (w *walker) set(set ast.SelectionSet, level int) measured {
	m := measured{depth: level - 1}
	for _, sel := range set {
		if w.err != nil {
			return m
		}
		w.steps++
		if w.steps%1024 == 0 && w.ctx.Err() != nil {
			w.err = tooComplex("the request was cancelled while its limits were checked")
			return m
		}
		var s measured
		switch sel := sel.(type) {
		case *ast.Field:
			s = w.field(sel, level)
		case *ast.InlineFragment:
			s = w.set(sel.SelectionSet, level)
		case *ast.FragmentSpread:
			s = w.spread(sel, level)
		}
		m.depth = max(m.depth, s.depth)
		m.aliases = satAdd(m.aliases, s.aliases)
		m.cost = satAdd(m.cost, s.cost)
		// Aliases only add up and depth only grows: a part over the limit
		// is the whole over it.
		switch {
		case w.err != nil:
		case m.depth > w.l.MaxDepth:
			w.err = tooComplex("the query is more than %d levels deep", w.l.MaxDepth)
		case m.aliases > w.l.MaxAliases:
			w.err = tooComplex("the query has more than %d aliases", w.l.MaxAliases)
		}
	}
	return m
}

func (w *walker) spread(s *ast.FragmentSpread, level int) measured {
	def := s.Definition
	if def == nil {
		def = w.frags.ForName(s.Name)
	}
	if def == nil {
		return measured{depth: level - 1}
	}
	f, seen := w.memo[def.Name]
	if !seen {
		w.memo[def.Name] = nil
		m := w.set(def.SelectionSet, level)
		m.depth -= level - 1 // from the level it is spread at
		f = &m
		w.memo[def.Name] = f
	}
	if f == nil {
		return measured{depth: level - 1}
	}
	return measured{depth: level - 1 + f.depth, aliases: f.aliases, cost: f.cost}
}

// field measures a field as gqlgen's complexity.Calculate does: the
// schema's complexity function of the field's type (the most expensive of
// an interface's implementations) given what is under it, else one plus
// that; fields under __schema cost nothing.
func (w *walker) field(f *ast.Field, level int) measured {
	m := measured{depth: level}
	if f.Alias != "" && f.Alias != f.Name {
		m.aliases = 1
	}
	sub := w.set(f.SelectionSet, level+1)
	m.depth = max(m.depth, sub.depth)
	m.aliases = satAdd(m.aliases, sub.aliases)
	if f.Definition == nil || f.ObjectDefinition == nil || w.schema == nil {
		// Not validated (only tests and fuzzing measure such documents).
		m.cost = satAdd(1, sub.cost)
		return m
	}
	typ := w.schema.Types[f.Definition.Type.Name()]
	if typ == nil {
		m.cost = satAdd(1, sub.cost)
		return m
	}
	if typ.Name == "__Schema" {
		return m
	}
	child := 0
	switch typ.Kind {
	case ast.Object, ast.Interface, ast.Union:
		child = sub.cost
	}
	var args map[string]any
	if len(f.Definition.Arguments) > 0 {
		args = f.ArgumentMap(w.vars)
	}
	if f.ObjectDefinition.Kind == ast.Interface {
		for _, t := range w.schema.GetPossibleTypes(f.ObjectDefinition) {
			m.cost = max(m.cost, w.fieldCost(t, f.Name, child, args))
		}
		return m
	}
	m.cost = w.fieldCost(f.ObjectDefinition, f.Name, child, args)
	return m
}

func (w *walker) fieldCost(on *ast.Definition, field string, child int, args map[string]any) int {
	if c, ok := w.l.schema.Complexity(w.ctx, on.Name, field, child, args); ok && c >= 1 {
		return c
	}
	return satAdd(1, child)
}
