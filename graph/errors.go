package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"studio/models"
)

// Errors name fields as the mutation the client called does. The write
// path names them as Studio's sync does (copyright_holder,
// extra_fields.randomize), which is right for applyChanges; the typed
// mutations take GraphQL inputs (copyrightHolder, extraFields.randomize),
// and a form must find its field by that name.

// syncNames are the root fields that speak Studio's names.
var syncNames = map[string]bool{"applyChanges": true, "updateDescendants": true}

// changeKeys are a change's own keys, by the typed inputs' names.
var changeKeys = map[string]string{"key": "id", "parent": "parentId", "from_key": "sourceId", "obj": "input"}

// inputNames renames e's items' fields (and their messages' leading field
// names) for the mutation ctx runs, unless it speaks Studio's names.
func inputNames(ctx context.Context, e *models.Error) *models.Error {
	rc := graphql.GetRootFieldContext(ctx)
	if rc == nil || !graphql.HasOperationContext(ctx) || len(e.Items) == 0 || syncNames[rc.Field.Name] {
		return e
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Mutation {
		return e
	}
	out := *e
	out.Items = make([]models.ItemError, len(e.Items))
	for i, it := range e.Items {
		if name := inputName(it.Field); name != it.Field {
			old := it.Field
			it.Field = name
			it.Message = renameLeading(it.Message, old, name)
			out.Message = strings.Replace(out.Message, old+": ", name+": ", 1)
		}
		out.Items[i] = it
	}
	return &out
}

// inputName is a sync name's GraphQL input name: the first segment of a
// dotted path renamed (what follows is JSON the client wrote as it is).
func inputName(field string) string {
	if field == "" {
		return ""
	}
	head, rest, dotted := strings.Cut(field, ".")
	name, ok := changeKeys[head]
	if !ok {
		if f := models.NodeFieldByColumn(head); f != nil && f.GraphQL != "" {
			name = f.GraphQL
		} else {
			name = camel(head)
		}
	}
	if dotted {
		return name + "." + rest
	}
	return name
}

// camel turns snake_case into camelCase.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func renameLeading(msg, old, name string) string {
	if rest, ok := strings.CutPrefix(msg, old+": "); ok {
		return name + ": " + rest
	}
	return msg
}
