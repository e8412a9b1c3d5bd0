package graph

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun/dialect/pgdialect"

	"studio/models"
)

// TestNodeFieldsAreDeclared: models.NodeFields, the one declaration of a
// node's fields, agrees with the model (bun's metadata: every column, in
// order, each entry's Of pointing at its column's struct field), with the
// schema (ContentNode's fields and the typed inputs' are table entries or
// named here as computed), and the rest derive from it. The migrations'
// columns are checked against it in db (TestNodeColumnsMatchMigrations).
func TestNodeFieldsAreDeclared(t *testing.T) {
	table := pgdialect.New().Tables().Get(reflect.TypeFor[models.ContentNode]())
	require.Len(t, models.NodeFields, len(table.Fields), "every column of ContentNode has one entry")
	n := new(models.ContentNode)
	strct := reflect.ValueOf(n).Elem()
	for i, f := range table.Fields {
		nf := models.NodeFields[i]
		require.Equal(t, f.Name, nf.Column, "entry %d", i)
		require.Equal(t, f.Value(strct).Addr().Pointer(), reflect.ValueOf(nf.Of(n)).Pointer(), "%s: Of points at another field", nf.Column)
		require.Equal(t, f.Value(strct).Addr().Type(), reflect.TypeOf(nf.Of(n)), nf.Column)
		if nf.Type == models.FieldText {
			require.Positive(t, nf.Limit, "%s: a text field has a limit", nf.Column)
		}
	}

	schema := NewExecutableSchema(Config{}).Schema()
	// Fields the resolvers compute, not columns of the node's own.
	computed := map[string]bool{"channel": true, "parent": true, "createdBy": true, "modifiedBy": true,
		"tags": true, "ancestors": true, "children": true, "childCount": true, "resourceCount": true,
		"files": true, "assessmentItems": true, "prerequisites": true, "incompleteReasons": true}
	for _, f := range schema.Types["ContentNode"].Fields {
		if models.NodeFieldByGraphQL(f.Name) == nil && !computed[f.Name] && f.Name[0] != '_' {
			t.Errorf("ContentNode.%s is neither in models.NodeFields nor computed", f.Name)
		}
		_, planned := nodeFieldColumns[f.Name]
		require.True(t, planned || f.Name == "incompleteReasons", "ContentNode.%s has no columns for the prefetch", f.Name)
	}
	for _, nf := range models.NodeFields {
		if nf.GraphQL != "" {
			require.NotNil(t, schema.Types["ContentNode"].Fields.ForName(nf.GraphQL), "%s: ContentNode has no field %s", nf.Column, nf.GraphQL)
		}
	}
	// The inputs' other fields are where the node goes and its tags.
	placement := map[string]bool{"id": true, "parentId": true, "position": true, "tags": true, "addTags": true,
		"removeTags": true, "mods": true}
	for _, input := range []string{"CreateContentNodeInput", "UpdateContentNodeInput"} {
		for _, f := range schema.Types[input].Fields {
			nf := models.NodeFieldByGraphQL(f.Name)
			if nf == nil && !placement[f.Name] {
				t.Errorf("%s.%s is neither in models.NodeFields nor a placement", input, f.Name)
			}
			if nf != nil && f.Name != "id" {
				settable := !nf.Has(models.ReadOnly) || input == "CreateContentNodeInput" && nf.Has(models.SetOnCreate)
				require.True(t, settable, "%s.%s sets a read-only field", input, f.Name)
			}
		}
	}
}

// TestTypedInputsSetTheirColumns: a typed input's fields reach the change
// under their columns, null ones left out, labels as maps.
func TestTypedInputsSetTheirColumns(t *testing.T) {
	title, lang, dur := "T", "fr", 30
	o := obj{}
	o.nodeFields(&models.UpdateContentNodeInput{Title: &title, Language: &lang, SuggestedDuration: &dur,
		ExtraFields: map[string]any{"a": 1.0}})
	require.Equal(t, obj{"title": "T", "language": "fr", "suggested_duration": 30, "extra_fields": map[string]any{"a": 1.0}}, o)
	o = obj{}
	o.nodeFields(&models.CreateContentNodeInput{Kind: models.KindVideo, Title: "V", Categories: []string{"x"}})
	require.Equal(t, obj{"kind": "video", "title": "V", "categories": map[string]any{"x": true}}, o)
}
