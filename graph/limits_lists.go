package graph

import (
	"reflect"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"studio/models"
)

// listCheck bounds the list arguments of an operation before anything runs:
// each list (ids, input, changes, and lists inside input objects such as
// tags or excludedDescendants) to MaxListItems, and all of them together
// to MaxListTotal. Without it, 100,000 ids reached resolvers that look
// each one up before saying "at most 1,000", or "log in first". It also
// refuses a NUL character in any text argument, read or write: no database
// stores one, and bun wrote it into SQL as an error string (a 500).
type listCheck struct {
	l      *Limits
	schema *ast.Schema
	total  int
	seen   map[string]bool // fragments checked
	err    *gqlerror.Error
}

func (l *Limits) checkLists(op *ast.OperationDefinition, frags ast.FragmentDefinitionList, vars map[string]any) *gqlerror.Error {
	if l.schema == nil {
		return nil
	}
	c := &listCheck{l: l, schema: l.schema.Schema(), seen: map[string]bool{}}
	// Variables once each, however often they are used.
	for _, v := range op.VariableDefinitions {
		if c.err == nil {
			c.value(reflect.ValueOf(vars[v.Variable]), v.Type, "$"+v.Variable)
		}
	}
	c.set(op.SelectionSet, frags)
	return c.err
}

func (c *listCheck) set(set ast.SelectionSet, frags ast.FragmentDefinitionList) {
	for _, sel := range set {
		if c.err != nil {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition != nil {
				for _, a := range s.Arguments {
					if def := s.Definition.Arguments.ForName(a.Name); def != nil {
						c.literal(a.Value, def.Type, s.Name+"("+a.Name+":)")
					}
				}
			}
			c.set(s.SelectionSet, frags)
		case *ast.InlineFragment:
			c.set(s.SelectionSet, frags)
		case *ast.FragmentSpread:
			def := s.Definition
			if def == nil {
				def = frags.ForName(s.Name)
			}
			if def != nil && !c.seen[def.Name] {
				c.seen[def.Name] = true
				c.set(def.SelectionSet, frags)
			}
		}
	}
}

// items counts a list of n items named where.
func (c *listCheck) items(n int, where string) {
	c.total = satAdd(c.total, n)
	switch {
	case n > c.l.MaxListItems:
		c.err = gqlerror.Errorf("%s has %d items, more than %d: split them into several calls", where, n, c.l.MaxListItems)
		c.err.Extensions = map[string]any{"code": string(models.CodeBadUserInput)}
	case c.total > c.l.MaxListTotal:
		c.err = tooComplex("the request's lists have more than %d items in all (at %s): split it into several calls", c.l.MaxListTotal, where)
	}
}

// text refuses a NUL in a string named where.
func (c *listCheck) text(s, where string) {
	if strings.ContainsRune(s, 0) {
		c.err = gqlerror.Errorf("%s: text may not contain the NUL character (U+0000); remove it", where)
		c.err.Extensions = map[string]any{"code": string(models.CodeBadUserInput)}
	}
}

// literal checks a value written in the document; variables in it are
// checked on their own.
func (c *listCheck) literal(v *ast.Value, t *ast.Type, where string) {
	if v == nil || t == nil || c.err != nil {
		return
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		c.text(v.Raw, where)
	case ast.ListValue:
		if t.Elem == nil {
			return
		}
		c.items(len(v.Children), where)
		for _, item := range v.Children {
			if c.err != nil {
				return
			}
			c.literal(item.Value, t.Elem, where)
		}
	case ast.ObjectValue:
		def := c.schema.Types[t.Name()]
		if t.Elem != nil || def == nil || def.Kind != ast.InputObject {
			return // a JSON scalar's object is its own business
		}
		for _, f := range v.Children {
			if fd := def.Fields.ForName(f.Name); fd != nil {
				c.literal(f.Value, fd.Type, where+"."+f.Name)
			}
		}
	}
}

// value checks a variable's value against its type.
func (c *listCheck) value(v reflect.Value, t *ast.Type, where string) {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		v = v.Elem()
	}
	if !v.IsValid() || t == nil || c.err != nil {
		return
	}
	switch {
	case v.Kind() == reflect.String:
		c.text(v.String(), where)
	case t.Elem != nil && v.Kind() == reflect.Slice:
		c.items(v.Len(), where)
		for i := 0; i < v.Len() && c.err == nil; i++ {
			c.value(v.Index(i), t.Elem, where)
		}
	case t.Elem == nil && v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		def := c.schema.Types[t.Name()]
		if def == nil || def.Kind != ast.InputObject {
			return
		}
		for _, fd := range def.Fields {
			if c.err != nil {
				return
			}
			if fv := v.MapIndex(reflect.ValueOf(fd.Name).Convert(v.Type().Key())); fv.IsValid() {
				c.value(fv, fd.Type, where+"."+fd.Name)
			}
		}
	}
}
