package graph

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxFieldSteps bounds the work of checkFields itself; no real document
// comes near it (it takes about one step a token).
const maxFieldSteps = 200_000

// fieldCheck counts a parsed, not yet validated, document's fields before
// gqlparser validates it. Validation is linear but for the rule that
// fields of one response name can merge (OverlappingFieldsCanBeMerged),
// which compares every pair of them: in one selection set, between the
// sets under same-named fields (x { a } x { a } merges the a's), between
// a set and the fragments spread in it, and again each time its walker
// enters a set (an inline fragment in a fragment is entered once for every
// definition that reaches it). {__typename ×14000} fits in 15,000 tokens
// and took 12 CPU-seconds to validate.
//
// The check walks each definition once, merging the sets under fields of
// one response name as that rule does, and estimates the pairs it compares
// (fieldPairs): the pairs of each merged set, with the fields of the
// fragments spread in it, times the times the rule's walker enters that
// set. Real documents repeat a response name a few times at most, so their
// estimate is near zero whatever their size.
type fieldCheck struct {
	l      *Limits
	frags  map[string]*ast.FragmentDefinition
	names  map[string]map[string]int // a fragment's own fields by response name
	fields int
	pairs  int
	steps  int
	err    *gqlerror.Error
}

// checkFields parses query and refuses it when it has too many fields, too
// many in one selection set, or too many fields of one response name to
// compare. A document that does not parse is left to gqlgen to report.
func (l *Limits) checkFields(query string) (steps int, err *gqlerror.Error) {
	doc, perr := parser.ParseQuery(&ast.Source{Input: query})
	if perr != nil || doc == nil {
		return 0, nil //nolint:nilerr // gqlgen reports the parse error, with its position
	}
	c := &fieldCheck{l: l, frags: map[string]*ast.FragmentDefinition{}, names: map[string]map[string]int{}}
	for _, f := range doc.Fragments {
		if _, ok := c.frags[f.Name]; !ok {
			c.frags[f.Name] = f
		}
	}
	for _, op := range doc.Operations {
		c.merged([]ast.SelectionSet{op.SelectionSet}, 1, 1)
	}
	// A fragment's field sets are entered once for each operation; its
	// inline fragments once for each definition too.
	ops, defs := max(1, len(doc.Operations)), len(doc.Operations)+len(doc.Fragments)
	for _, f := range doc.Fragments {
		c.merged([]ast.SelectionSet{f.SelectionSet}, ops, defs)
	}
	return c.steps, c.err
}

// merged checks the fields of sets taken together (the sets under fields
// of one response name), then the sets under each of their response names.
// weight is how often the rule compares pairs of these fields; inlineWeight
// how often it does so again for each inline fragment among them.
func (c *fieldCheck) merged(sets []ast.SelectionSet, weight, inlineWeight int) {
	if c.err != nil {
		return
	}
	counts := map[string]int{}
	var order []string
	subsets := map[string][]ast.SelectionSet{}
	var spreads []string
	spread := map[string]bool{}
	inline := 0
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			c.steps++
			switch s := sel.(type) {
			case *ast.Field:
				c.fields++
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				if counts[name] == 0 {
					order = append(order, name)
				}
				counts[name]++
				if len(s.SelectionSet) > 0 {
					subsets[name] = append(subsets[name], s.SelectionSet)
				}
			case *ast.InlineFragment:
				inline++
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if !spread[s.Name] {
					spread[s.Name] = true
					spreads = append(spreads, s.Name)
				}
			}
		}
	}
	for _, set := range sets {
		walk(set)
	}
	for _, name := range spreads {
		for n, k := range c.fragmentNames(name) {
			c.steps++
			counts[n] += k
		}
	}
	size, pairs := 0, 0
	for _, k := range counts {
		size = satAdd(size, k)
		pairs = satAdd(pairs, satMul(k, k-1)/2)
	}
	c.pairs = satAdd(c.pairs, satAdd(satMul(pairs, weight), satMul(satMul(pairs, inline), inlineWeight)))
	switch {
	case c.fields > c.l.MaxFields:
		c.err = tooComplex("the document has more than %d fields; split it into several requests", c.l.MaxFields)
	case size > c.l.MaxFieldsPerSet:
		c.err = tooComplex("a selection set has %d fields, more than %d; split it into several requests", size, c.l.MaxFieldsPerSet)
	case c.pairs > c.l.MaxFieldPairs:
		c.err = tooComplex("the document repeats the same fields too often (more than %d pairs of fields of one name to compare); ask for each field once", c.l.MaxFieldPairs)
	case c.steps > maxFieldSteps:
		c.err = tooComplex("the document is too large to check; split it into several requests")
	}
	for _, name := range order {
		if c.err != nil {
			return
		}
		if subs := subsets[name]; len(subs) > 0 {
			c.merged(subs, weight, inlineWeight)
		}
	}
}

// fragmentNames counts a fragment's own fields (its inline fragments' too)
// by response name, once.
func (c *fieldCheck) fragmentNames(name string) map[string]int {
	if m, ok := c.names[name]; ok {
		return m
	}
	m := map[string]int{}
	c.names[name] = m
	f := c.frags[name]
	if f == nil {
		return m
	}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			c.steps++
			switch s := sel.(type) {
			case *ast.Field:
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				m[name]++
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	walk(f.SelectionSet)
	return m
}
