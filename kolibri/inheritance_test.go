package kolibri

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/models"
)

// TestInheritance: in a chef's channel a resource inherits its ancestors'
// language and the four inherited label sets, keeps its own, drops a label a
// more specific one refines, and never inherits learning activities; topics
// keep their own; in other channels nothing is inherited.
func TestInheritance(t *testing.T) {
	node := func(parent *models.ContentNode, kind, lang string, cats map[string]any) *models.ContentNode {
		n := &models.ContentNode{ID: models.NewID(), Kind: kind, LanguageCode: lang, Categories: cats,
			LearningActivities: map[string]any{"read": true}}
		if parent != nil {
			n.ParentID = &parent.ID
		}
		return n
	}
	root := node(nil, models.KindTopic, "", nil)
	unit := node(root, models.KindTopic, "fr", map[string]any{"maths": true})
	lesson := node(unit, models.KindTopic, "", map[string]any{"maths.algebra": true, "science": true})
	doc := node(lesson, models.KindDocument, "", map[string]any{"arts": true})
	own := node(lesson, models.KindVideo, "es", nil)

	for _, tc := range []struct {
		name string
		on   bool
		n    *models.ContentNode
		lang string
		cats map[string]any
	}{
		{"a topic keeps its own", true, lesson, "", map[string]any{"maths.algebra": true, "science": true}},
		{"a resource inherits, the specific label kept", true, doc, "fr", map[string]any{"maths.algebra": true, "science": true, "arts": true}},
		{"a resource's own language wins", true, own, "es", map[string]any{"maths.algebra": true, "science": true}},
		{"off, nothing is inherited", false, doc, "", map[string]any{"arts": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newInheritance(tc.on)
			var got metadata
			for _, n := range []*models.ContentNode{root, unit, lesson, doc, own} {
				if m := h.of(n); n == tc.n {
					got = m
				}
			}
			require.Equal(t, tc.lang, got.lang)
			if len(tc.cats) == 0 {
				require.Empty(t, got.labels["categories"])
			} else {
				require.Equal(t, tc.cats, got.labels["categories"])
			}
			require.NotContains(t, got.labels, "learning_activities", "never inherited")
		})
	}
}
