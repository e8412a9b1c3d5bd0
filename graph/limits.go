package graph

import (
	"context"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

	"studio/models"
)

// Limits bound what one GraphQL document may ask, so that no query, however
// built, takes the service down. They are checked before anything runs: a
// refused query costs parsing and authenticating the caller, nothing more.
type Limits struct {
	// MaxComplexity bounds a query's cost: one a field, and a list field
	// (children(first:), nodes, channels, contentNodes) multiplies the cost
	// of what is under it by its page size.
	MaxComplexity int
	MaxDepth      int
	MaxAliases    int
	MaxTokens     int

	schema graphql.ExecutableSchema
}

// DefaultLimits allow two levels of children(first: 1000) with a few fields
// each (a channel of a thousand topics of a thousand resources), and refuse
// children(first: 1000) nested three deep or more.
var DefaultLimits = Limits{MaxComplexity: 10_000_000, MaxDepth: 30, MaxAliases: 100, MaxTokens: 15_000}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = &Limits{}

func (l *Limits) ExtensionName() string { return "Limits" }

func (l *Limits) Validate(schema graphql.ExecutableSchema) error {
	l.schema = schema
	return nil
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": string(models.CodeTooComplex)}
	return err
}

// MutateOperationParameters counts the document's tokens before it is parsed.
func (l *Limits) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	lex := lexer.New(&ast.Source{Input: p.Query})
	for n := 0; ; n++ {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return nil // a lexing error is the parser's to report
		}
		if n >= l.MaxTokens {
			return tooComplex("the document has more than %d tokens; split it into several requests", l.MaxTokens)
		}
	}
}

// MutateOperationContext measures the parsed operation: depth, aliases, cost.
func (l *Limits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	depth, aliases := measure(oc.Operation.SelectionSet, oc.Doc.Fragments, 1, map[string]bool{})
	if depth > l.MaxDepth {
		return tooComplex("the query is %d levels deep, more than %d", depth, l.MaxDepth)
	}
	if aliases > l.MaxAliases {
		return tooComplex("the query has %d aliases, more than %d", aliases, l.MaxAliases)
	}
	cost := complexity.Calculate(ctx, l.schema, oc.Operation, oc.Variables)
	if cost > l.MaxComplexity {
		err := tooComplex("the query costs %d, more than %d: ask for smaller pages (first) or fewer levels", cost, l.MaxComplexity)
		err.Extensions["cost"] = cost
		err.Extensions["maxCost"] = l.MaxComplexity
		return err
	}
	return nil
}

// measure returns the depth of a selection set and the aliases in it,
// fragments expanded (each fragment once on a path, so cycles end).
func measure(set ast.SelectionSet, frags ast.FragmentDefinitionList, level int, seen map[string]bool) (depth, aliases int) {
	depth = level - 1
	for _, sel := range set {
		var d, a int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				a++
			}
			d, a2 := measure(s.SelectionSet, frags, level+1, seen)
			d = max(d, level)
			a += a2
			depth = max(depth, d)
		case *ast.InlineFragment:
			d, a = measure(s.SelectionSet, frags, level, seen)
			depth = max(depth, d)
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue
			}
			if f := frags.ForName(s.Name); f != nil {
				seen[s.Name] = true
				d, a = measure(f.SelectionSet, frags, level, seen)
				delete(seen, s.Name)
				depth = max(depth, d)
			}
		}
		aliases += a
	}
	return depth, aliases
}

// costs sets the cost of list fields: their page size times what is under them.
func costs(c *ComplexityRoot) {
	page := func(first *int, def int) int {
		if first == nil {
			return def
		}
		return max(*first, 0)
	}
	c.ContentNode.Children = func(child int, first *int, _ *string) int { return 1 + page(first, 100)*child }
	c.Channel.Nodes = func(child int, _ *models.NodeFilter, first *int, _ *string) int { return 1 + page(first, 100)*child }
	c.Query.Channels = func(child int, _ *models.ChannelFilter, first *int, _ *string) int { return 1 + page(first, 25)*child }
	c.Query.ContentNodes = func(child int, ids []models.ID) int { return 1 + len(ids)*child }
	c.Query.Changes = func(child int, _ models.ID, _ int, first *int) int { return 1 + page(first, 200)*child }
}
