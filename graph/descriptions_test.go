package graph

import (
	"sort"
	"strings"
	"testing"
)

// TestEverythingIsDescribed: the schema's descriptions are the API's
// reference (README, "Using the API"), so every type of schema.graphqls, and
// every field, argument, input field and enum value of it, has one. The
// built-in types (String, __Schema, ...) and the introspection fields are
// gqlparser's, not ours.
func TestEverythingIsDescribed(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	var missing []string
	checked := 0
	for name, def := range schema.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		checked++
		if blank(def.Description) {
			missing = append(missing, name)
		}
		for _, f := range def.Fields { // an input object's fields too
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if blank(f.Description) {
				missing = append(missing, name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if blank(a.Description) {
					missing = append(missing, name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		for _, v := range def.EnumValues {
			if blank(v.Description) {
				missing = append(missing, name+"."+v.Name)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d of the schema's own types were checked; is the built-in filter wrong?", checked)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Fatalf("%d without a description in schema.graphqls:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
