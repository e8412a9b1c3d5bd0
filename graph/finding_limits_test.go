package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// limitsSchema is the executable schema with the server's costs; limits
// measure documents against it without a database.
func limitsSchema() graphql.ExecutableSchema {
	cfg := Config{Resolvers: &Resolver{}}
	costs(&cfg.Complexity)
	return NewExecutableSchema(cfg)
}

func newLimits(t testing.TB, es graphql.ExecutableSchema) *Limits {
	l := DefaultLimits
	require.NoError(t, l.Validate(es))
	return &l
}

// limitsExecutor runs gqlgen's path up to execution: the limits before
// parsing, parsing and validation, the limits after. validations counts
// the documents validated.
func limitsExecutor(t testing.TB, validations *int) *executor.Executor {
	es := limitsSchema()
	e := executor.New(es)
	e.Use(newLimits(t, es))
	e.SetDefaultRulesFn(func() *rules.Rules {
		r := rules.NewDefaultRules()
		r.AddRule("CountValidations", func(o *core.Events, _ core.AddErrFunc) {
			o.OnOperation(func(*core.Walker, *ast.OperationDefinition) { *validations++ })
		})
		return r
	})
	return e
}

func codeOf(errs gqlerror.List) string {
	if len(errs) == 0 {
		return ""
	}
	c, _ := errs[0].Extensions["code"].(string)
	return c
}

// spreadBomb is n fragments, each spreading the one before k times: the
// expanded operation has k^n fields.
func spreadBomb(n, k int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{ ...F%d }\nfragment F0 on Query { __typename }\n", n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query {", i)
		for range k {
			fmt.Fprintf(&b, " ...F%d", i-1)
		}
		b.WriteString(" }\n")
	}
	return b.String()
}

// fieldBomb is n fragments of k fields each, every field holding the
// fragment before: k^n fields, n levels deep.
func fieldBomb(n, k int) string {
	fields := []string{"parent", "ancestors", "prerequisites", "channel { root", "channel { trashRoot",
		"children { edges { node", "channel { nodes { edges { node", "parent", "ancestors", "prerequisites"}
	var b strings.Builder
	fmt.Fprintf(&b, "{ contentNode(id: \"x\") { ...F%d } }\nfragment F0 on ContentNode { id }\n", n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "fragment F%d on ContentNode {", i)
		for j := range k {
			f := fields[j%len(fields)]
			fmt.Fprintf(&b, " %s { ...F%d }%s", f, i-1, strings.Repeat(" }", strings.Count(f, "{")))
		}
		b.WriteString(" }\n")
	}
	return b.String()
}

// selections counts a document's selections, each definition once.
func selections(doc *ast.QueryDocument) int {
	var count func(ast.SelectionSet) int
	count = func(set ast.SelectionSet) int {
		n := len(set)
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				n += count(s.SelectionSet)
			case *ast.InlineFragment:
				n += count(s.SelectionSet)
			}
		}
		return n
	}
	n := 0
	for _, op := range doc.Operations {
		n += count(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		n += count(f.SelectionSet)
	}
	return n
}

// validated parses and validates a document as gqlgen does.
func validated(t testing.TB, es graphql.ExecutableSchema, query string) *ast.QueryDocument {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	require.NoError(t, err)
	require.Empty(t, validator.ValidateWithRules(es.Schema(), doc, nil), query)
	return doc
}

// TestFindingFragmentBomb: fragments spreading each other ten times, nine
// deep (10^9 fields expanded; it took 39 CPU-seconds), and thirty deep are
// refused with TOO_COMPLEX, and the walk visits each selection of the
// document at most once instead of every expanded one.
func TestFindingFragmentBomb(t *testing.T) {
	es := limitsSchema()
	l := newLimits(t, es)
	for name, q := range map[string]string{
		"spreads 9 deep, 10 a fragment":  spreadBomb(9, 10),
		"spreads 30 deep, 10 a fragment": spreadBomb(30, 10),
		"fields 9 deep, 10 a fragment":   fieldBomb(9, 10),
		"fields 30 deep, 10 a fragment":  fieldBomb(30, 10),
		"fields 30 deep, 2 a fragment":   fieldBomb(30, 2),
	} {
		doc := validated(t, es, q)
		_, steps, err := l.measure(context.Background(), doc.Operations[0], doc.Fragments, nil)
		require.NotNil(t, err, name)
		require.Equal(t, "TOO_COMPLEX", err.Extensions["code"], "%s: %s", name, err.Message)
		require.LessOrEqual(t, steps, selections(doc), name)
	}

	// Through gqlgen's whole path too: refused before anything runs.
	validations := 0
	e := limitsExecutor(t, &validations)
	_, errs := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: spreadBomb(9, 10)})
	require.Equal(t, "TOO_COMPLEX", codeOf(errs), "%v", errs)
	_, errs = e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: fieldBomb(30, 10)})
	require.Equal(t, "TOO_COMPLEX", codeOf(errs), "%v", errs)
}

// TestLimitsCostMatchesGqlgen: the memoised walk gives gqlgen's cost for
// ordinary queries (fragments, inline fragments, interfaces, variables,
// introspection), so no existing limit moved.
func TestLimitsCostMatchesGqlgen(t *testing.T) {
	es := limitsSchema()
	l := newLimits(t, es)
	l.MaxAliases, l.MaxDepth = 1<<30, 1<<30
	vars := map[string]any{"n": 7, "ids": []any{"a", "b", "c"}}
	for _, q := range []string{
		`{ __typename }`,
		`query($n: Int) { channel(id: "x") { name root { title children(first: $n) { edges { node { title files { url } } } } } } }`,
		`{ channels(first: 10) { edges { node { name root { ...N } trashRoot { ...N } } } } } fragment N on ContentNode { id title children { totalCount edges { node { ...L } } } } fragment L on ContentNode { id tags }`,
		`query($ids: [ID!]!) { contentNodes(ids: $ids) { id ... on ContentNode { parent { id } } } }`,
		`{ contentNode(id: "x") { id ... on ContentNode { children(first: 30) { edges { node { id } } } } ... { channel { nodes(first: 5) { edges { node { id } } } } } } }`,
		`{ a: contentNode(id: "x") { ...F } b: contentNode(id: "y") { ...F } } fragment F on ContentNode { children(first: 1000) { edges { node { ...G } } } } fragment G on ContentNode { id children(first: 1000) { edges { node { id } } } }`,
		`{ __schema { types { name fields { name } } } __type(name: "File") { name } }`,
		`{ changes(channelId: "x", since: 0) { changes { serverRev } maxRev } }`,
	} {
		doc := validated(t, es, q)
		m, _, err := l.measure(context.Background(), doc.Operations[0], doc.Fragments, vars)
		require.Nil(t, err, q)
		require.Equal(t, complexity.Calculate(context.Background(), es, doc.Operations[0], vars), m.cost, q)
	}
	// Past int's range the cost saturates instead of wrapping round.
	q := `{ contentNode(id: "x") { ` + strings.Repeat(`children(first: 1000) { edges { node { `, 8) + `id` + strings.Repeat(` } } }`, 8) + ` } }`
	doc := validated(t, es, q)
	m, _, err := l.measure(context.Background(), doc.Operations[0], doc.Fragments, nil)
	require.NotNil(t, err)
	require.Equal(t, maxInt, m.cost)
}

// quadratic are documents whose validation compares every pair of fields
// of one response name; each took from a second to a minute.
func quadratic() map[string]string {
	chain := func(n, m int) string {
		var b strings.Builder
		b.WriteString("{ ...F0 }\n")
		for i := range n {
			fmt.Fprintf(&b, "fragment F%d on Query { ...F%d }\n", i, i+1)
		}
		fmt.Fprintf(&b, "fragment F%d on Query { ... on Query { %s } }\n", n, strings.Repeat(" __typename", m))
		return b.String()
	}
	frags := "{ ...A ...B ...C }"
	for _, f := range "ABC" {
		frags += fmt.Sprintf(" fragment %c on Query {%s }", f, strings.Repeat(" __typename", 1000))
	}
	return map[string]string{
		"14,000 same fields":                    "{" + strings.Repeat(" __typename", 14000) + " }",
		"4,000 same fields":                     "{" + strings.Repeat(" __typename", 4000) + " }",
		"1,000 same fields":                     "{" + strings.Repeat(" __typename", 1000) + " }",
		"merged sets":                           "{" + strings.Repeat(` x: contentNode(id: "x") {`+strings.Repeat(" id", 30)+" }", 100) + " }",
		"fragments together":                    frags,
		"inline set reached by 1,000 fragments": chain(1000, 300),
	}
}

// TestFindingQuadraticValidation: documents that make validation compare
// millions of pairs of fields are refused with TOO_COMPLEX before they are
// validated (the counting rule never runs), by a check whose steps are
// linear in the document; large ordinary documents pass.
func TestFindingQuadraticValidation(t *testing.T) {
	validations := 0
	e := limitsExecutor(t, &validations)
	for name, q := range quadratic() {
		validations = 0
		_, errs := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: q})
		require.Equal(t, "TOO_COMPLEX", codeOf(errs), "%s: %v", name, errs)
		require.Zero(t, validations, name)
	}

	l := newLimits(t, limitsSchema())
	var fields strings.Builder
	for i := range 99 {
		fmt.Fprintf(&fields, " f%d: __typename", i)
	}
	for name, q := range map[string]string{
		"99 aliases":  "{" + fields.String() + " }",
		"a tree read": `{ channel(id: "x") { root { children(first: 1000) { edges { node { id title files { url } children { edges { node { id title } } } } } } } } }`,
		"fragments repeating id": `{ channel(id: "x") { root { id ...A ...B ...C } } }
			fragment A on ContentNode { id title parent { id ...B } } fragment B on ContentNode { id kind ...C } fragment C on ContentNode { id tags }`,
	} {
		steps, err := l.checkFields(q)
		require.Nil(t, err, "%s: %v", name, err)
		require.LessOrEqual(t, steps, 4*strings.Count(q, " ")+10, name)
		validations = 0
		_, errs := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: q})
		require.NotEqual(t, "TOO_COMPLEX", codeOf(errs), "%s: %v", name, errs)
		require.Equal(t, 1, validations, name)
	}
}

// maxFuzzQuery keeps fuzzed documents small enough to mutate quickly;
// the seeds of many thousand fields are in TestFindingQuadraticValidation.
const maxFuzzQuery = 16 << 10

// FuzzQueryLimits: whatever the document, the limits never panic and
// finish within a number of steps bounded by its size.
func FuzzQueryLimits(f *testing.F) {
	for _, q := range quadratic() {
		if len(q) <= maxFuzzQuery {
			f.Add(q)
		}
	}
	for _, q := range []string{spreadBomb(9, 10), fieldBomb(5, 10), `{ __typename }`,
		`query($ids: [ID!]!) { contentNodes(ids: $ids) { id } }`, `{ ...F } fragment F on Query { ...F }`,
		`mutation { deleteContentNodes(ids: ["a", "b"]) }`, `{ contentNode(id: "x") { ... on ContentNode { id } } }`} {
		f.Add(q)
	}
	es := limitsSchema()
	l := newLimits(f, es)
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > maxFuzzQuery {
			return
		}
		if l.checkTokens(q) != nil {
			return
		}
		steps, err := l.checkFields(q)
		require.LessOrEqual(t, steps, maxFieldSteps+l.MaxFieldsPerSet+len(q))
		if err != nil {
			return
		}
		doc, perr := parser.ParseQuery(&ast.Source{Input: q})
		if perr != nil {
			return
		}
		// Measured before and after validation: neither may panic.
		for _, op := range doc.Operations {
			_, steps, _ := l.measure(context.Background(), op, doc.Fragments, nil)
			require.LessOrEqual(t, steps, selections(doc))
		}
		if len(validator.ValidateWithRules(es.Schema(), doc, nil)) > 0 {
			return
		}
		for _, op := range doc.Operations {
			_, steps, _ := l.measure(context.Background(), op, doc.Fragments, nil)
			require.LessOrEqual(t, steps, selections(doc))
			_ = l.checkLists(op, doc.Fragments, nil)
		}
	})
}

// BenchmarkRefuse is the server's CPU to refuse each attack, through
// gqlgen's path (limits, parsing, validation), with no query cache.
func BenchmarkRefuse(b *testing.B) {
	validations := 0
	e := limitsExecutor(b, &validations)
	for name, q := range map[string]string{
		"fragment bomb 9x10":       spreadBomb(9, 10),
		"fragment bomb 30x10":      spreadBomb(30, 10),
		"field bomb 9x10":          fieldBomb(9, 10),
		"field bomb 30x10":         fieldBomb(30, 10),
		"15,000 tokens same field": "{" + strings.Repeat(" __typename", 14998) + " }",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_, errs := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: q})
				if codeOf(errs) != "TOO_COMPLEX" {
					b.Fatal(errs)
				}
			}
		})
	}
}

// BenchmarkLimitsAccept is what the limits add to a common query before
// parsing: its verdict is remembered, so it is not lexed and parsed again.
func BenchmarkLimitsAccept(b *testing.B) {
	l := newLimits(b, limitsSchema())
	p := &graphql.RawParams{Query: `query($id: ID!) { channel(id: $id) { name } }`}
	for b.Loop() {
		if err := l.MutateOperationParameters(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
}
