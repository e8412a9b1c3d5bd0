package kolibri

import (
	"maps"
	"strings"

	"studio/models"
)

// inheritedLabels are the label fields a resource inherits from its
// ancestors in a chef's channel; learning_activities and
// accessibility_labels never are (studio-backend.md §4).
var inheritedLabels = []string{"grade_levels", "resource_types", "categories", "learner_needs"}

// inheritance works out, parents before children, the language and labels
// each node is exported with. Off (not a chef's channel), every node has its
// own. On, a resource takes its own language or else its nearest ancestor's,
// and its own labels merged with all its ancestors', a label dropped where a
// more specific one (label.sub) is there too; topics keep their own.
type inheritance struct {
	on    bool
	above map[models.ID]*metadata // what each node passes to its children
}

type metadata struct {
	lang   string
	labels map[string]map[string]any
}

func newInheritance(on bool) *inheritance {
	return &inheritance{on: on, above: map[models.ID]*metadata{}}
}

// of is n's exported metadata; n's parent must have been asked before it.
func (h *inheritance) of(n *models.ContentNode) metadata {
	own := metadata{lang: n.LanguageCode, labels: map[string]map[string]any{}}
	for _, field := range inheritedLabels {
		own.labels[field] = *models.NodeFieldByColumn(field).Of(n).(*map[string]any)
	}
	if !h.on {
		return own
	}
	from := &metadata{labels: map[string]map[string]any{}}
	if n.ParentID != nil && h.above[*n.ParentID] != nil {
		from = h.above[*n.ParentID]
	}
	// What n's children inherit: n's own over what n inherited.
	down := &metadata{lang: from.lang, labels: map[string]map[string]any{}}
	if own.lang != "" {
		down.lang = own.lang
	}
	for _, field := range inheritedLabels {
		m := maps.Clone(from.labels[field])
		if m == nil {
			m = map[string]any{}
		}
		maps.Copy(m, own.labels[field])
		down.labels[field] = m
	}
	h.above[n.ID] = down
	if n.Kind == models.KindTopic {
		return own
	}
	out := metadata{lang: own.lang, labels: map[string]map[string]any{}}
	if out.lang == "" {
		out.lang = from.lang
	}
	for _, field := range inheritedLabels {
		out.labels[field] = mostSpecific(down.labels[field])
	}
	return out
}

// mostSpecific drops each label that a more specific one (label.sub) refines.
func mostSpecific(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		refined := false
		for other := range m {
			if strings.HasPrefix(other, k+".") {
				refined = true
				break
			}
		}
		if !refined {
			out[k] = v
		}
	}
	return out
}
