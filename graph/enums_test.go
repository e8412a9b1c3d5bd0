package graph

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/models"
)

// TestEnumsAreLeUtils: the schema's enums of le-utils ids hold exactly
// le-utils' values, as the generated tables have them (which
// TestLeUtilsMatchesPackage compares with the package itself): a new
// le-utils release that adds a kind or a preset fails here until the schema
// has it too.
func TestEnumsAreLeUtils(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	var presets []string
	for _, p := range models.FormatPresets {
		presets = append(presets, p.ID)
	}
	for name, want := range map[string][]string{
		"ContentKindID":  models.Kinds,
		"RoleID":         models.Roles,
		"QuestionTypeID": models.AssessmentTypes,
		"FormatPresetID": presets,
	} {
		def := schema.Types[name]
		require.NotNil(t, def, name)
		var got []string
		for _, v := range def.EnumValues {
			got = append(got, v.Name)
			require.NotEmpty(t, v.Description, "%s.%s has no description", name, v.Name)
		}
		require.ElementsMatch(t, want, got, name)
	}
}
