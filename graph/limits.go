package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

	"studio/models"
)

// Limits bound what one GraphQL document may ask, so that no query, however
// built, takes the service down. They are checked before anything runs: a
// refused query costs parsing and authenticating the caller, nothing more.
// Every check takes time linear in the document (fragments are measured
// once each, however often they are spread).
type Limits struct {
	// MaxComplexity bounds a query's cost: one a field, and a list field
	// (children(first:), nodes, channels, contentNodes) multiplies the cost
	// of what is under it by its page size.
	MaxComplexity int
	MaxDepth      int
	MaxAliases    int
	MaxTokens     int

	// Checked before validation, whose overlapping-fields rule compares
	// every pair of fields of one response name: the fields of the whole
	// document (each fragment counted once), those of one selection set
	// (with its inline fragments and the fragments spread in it), and an
	// estimate of the pairs that rule compares (fieldPairs).
	MaxFields       int
	MaxFieldsPerSet int
	MaxFieldPairs   int

	// MaxListItems bounds each list argument (the schema documents 1,000
	// wherever it documents a maximum); MaxListTotal bounds the items of all
	// list arguments of a request, variables included, input objects'
	// lists (tags, excludedDescendants) too.
	MaxListItems int
	MaxListTotal int

	schema graphql.ExecutableSchema
	// passed remembers documents that passed the checks before validation
	// (by their text, when short), so that a common query is not parsed
	// twice on every request.
	passed *lru.LRU[struct{}]
}

// DefaultLimits allow two levels of children(first: 1000) with a few fields
// each (a channel of a thousand topics of a thousand resources), and refuse
// children(first: 1000) nested three deep or more.
var DefaultLimits = Limits{
	MaxComplexity: 10_000_000, MaxDepth: 30, MaxAliases: 100, MaxTokens: 15_000,
	MaxFields: 5_000, MaxFieldsPerSet: 1_000, MaxFieldPairs: 100_000,
	MaxListItems: maxBatch, MaxListTotal: 50_000,
}

// maxCachedQuery is the longest query text whose verdict is remembered:
// 1,000 of them keep at most 16 MB.
const maxCachedQuery = 16 << 10

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = &Limits{}

// ExtensionName names the extension to gqlgen.
func (l *Limits) ExtensionName() string { return "Limits" }

// Validate keeps the schema the limits measure against; gqlgen calls it
// once, when the extension is added.
func (l *Limits) Validate(schema graphql.ExecutableSchema) error {
	l.schema = schema
	l.passed = lru.New[struct{}](1000)
	return nil
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": string(models.CodeTooComplex)}
	return err
}

// MutateOperationParameters runs before the document is parsed and
// validated: it counts tokens, then fields (checkFields).
func (l *Limits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	cache := l.passed != nil && len(p.Query) <= maxCachedQuery
	if cache {
		if _, ok := l.passed.Get(ctx, p.Query); ok {
			return nil
		}
	}
	if err := l.checkTokens(p.Query); err != nil {
		return err
	}
	if _, err := l.checkFields(p.Query); err != nil {
		return err
	}
	if cache {
		l.passed.Add(ctx, p.Query, struct{}{})
	}
	return nil
}

func (l *Limits) checkTokens(query string) *gqlerror.Error {
	lex := lexer.New(&ast.Source{Input: query})
	for n := 0; ; n++ {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return nil //nolint:nilerr // a lexing error is the parser's to report
		}
		if n >= l.MaxTokens {
			return tooComplex("the document has more than %d tokens; split it into several requests", l.MaxTokens)
		}
	}
}

// MutateOperationContext measures the validated operation: depth, aliases
// and cost, then its list arguments.
func (l *Limits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if _, _, err := l.measure(ctx, oc.Operation, oc.Doc.Fragments, oc.Variables); err != nil {
		return err
	}
	return l.checkLists(oc.Operation, oc.Doc.Fragments, oc.Variables)
}

// costs sets the cost of list fields: their page size times what is under
// them, saturating rather than overflowing.
func costs(c *ComplexityRoot) {
	page := func(first *int, def int) int {
		if first == nil {
			return def
		}
		return max(*first, 0)
	}
	list := func(n, child int) int { return satAdd(1, satMul(n, child)) }
	c.ContentNode.Children = func(child int, first *int, _ *string) int { return list(page(first, 100), child) }
	c.Channel.Nodes = func(child int, _ *models.NodeFilter, first *int, _ *string) int { return list(page(first, 100), child) }
	c.Query.Channels = func(child int, _ *models.ChannelFilter, first *int, _ *string) int {
		return list(page(first, 25), child)
	}
	c.Query.ContentNodes = func(child int, ids []models.ID) int { return list(len(ids), child) }
	c.Query.Changes = func(child int, _ models.ID, _ int, first *int) int { return list(page(first, 200), child) }
}

const maxInt = int(^uint(0) >> 1)

// satAdd adds costs, saturating at maxInt and ignoring negative operands
// (as gqlgen's complexity package does), so that no query overflows into a
// small cost.
func satAdd(a, b int) int {
	switch {
	case a < 0 && b < 0:
		return 1
	case a < 0:
		return b
	case b < 0:
		return a
	}
	if c := a + b; c >= a {
		return c
	}
	return maxInt
}

// satMul multiplies non-negative costs, saturating at maxInt.
func satMul(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > maxInt/b {
		return maxInt
	}
	return a * b
}
