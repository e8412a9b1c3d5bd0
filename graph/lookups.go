package graph

import (
	"strings"

	"studio/models"
)

// The lookups are le-utils' vocabulary, from the tables generated into
// models (leutils_gen.go): static, so they are built here from those tables,
// never read from the database, and the same for every caller.

// pointers returns a pointer to each element of s, in order. The elements
// are shared with s: the executor only reads them.
func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// contentKinds lists le-utils' kinds with their presets and the completion
// criteria models Studio allows them.
var contentKinds = func() []*models.ContentKind {
	out := make([]*models.ContentKind, len(models.Kinds))
	for i, k := range models.Kinds {
		presets, _ := formatPresets(&k)
		criteria := []string{}
		for _, m := range models.CompletionModels {
			if models.CompletionModelAllowed(k, m) {
				criteria = append(criteria, m)
			}
		}
		out[i] = &models.ContentKind{ID: k, Presets: presets, CompletionCriteria: criteria}
	}
	return out
}()

// formatPresets lists le-utils' presets, or only those of kind when it is
// given; a kind le-utils does not list is BAD_USER_INPUT.
func formatPresets(kind *string) ([]*models.FormatPreset, error) {
	all := pointers(models.FormatPresets)
	if kind == nil {
		return all, nil
	}
	if !models.IsKind(*kind) {
		return nil, models.Errorf(models.CodeBadUserInput, "%q is not a content kind; use one of %s (the contentKinds query lists them)",
			*kind, strings.Join(models.Kinds, ", "))
	}
	out := []*models.FormatPreset{}
	for _, p := range all {
		if p.Kind == *kind {
			out = append(out, p)
		}
	}
	return out, nil
}

// labelSetOf is the set that holds label l: label ids are unique across
// le-utils' sets (the lookups test checks).
func labelSetOf(l *models.Label) (models.LabelSet, bool) {
	for _, s := range models.LabelSets {
		if _, ok := s.Label(l.ID); ok {
			return s, true
		}
	}
	return models.LabelSet{}, false
}

// labelChildren lists the labels of set s nested directly under the label
// with id parent ("" for the top-level ones), in le-utils order.
func labelChildren(s models.LabelSet, parent string) []*models.Label {
	out := []*models.Label{}
	for i := range s.Labels {
		if s.Labels[i].Parent() == parent {
			out = append(out, &s.Labels[i])
		}
	}
	return out
}

// childLabels lists the labels nested directly under l.
func childLabels(l *models.Label) []*models.Label {
	s, ok := labelSetOf(l)
	if !ok {
		return []*models.Label{}
	}
	return labelChildren(s, l.ID)
}

// graphQLFieldName turns Studio's snake_case field name into the
// ContentNode field's: grade_levels is gradeLevels.
func graphQLFieldName(field string) string {
	parts := strings.Split(field, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// questionTypes lists the accepted question types, le-utils' first.
var questionTypes = func() []*models.QuestionType {
	out := make([]*models.QuestionType, len(models.AssessmentTypes))
	for i, t := range models.AssessmentTypes {
		out[i] = &models.QuestionType{ID: t, Legacy: models.IsLegacyAssessmentType(t)}
	}
	return out
}()

// idsAs makes one T from each id, for the lookups that are only ids.
func idsAs[T any](ids []string, newT func(string) *T) []*T {
	out := make([]*T, len(ids))
	for i, id := range ids {
		out[i] = newT(id)
	}
	return out
}

var (
	masteryModels      = idsAs(models.MasteryModels, func(id string) *models.MasteryModel { return &models.MasteryModel{ID: id} })
	completionCriteria = idsAs(models.CompletionModels, func(id string) *models.CompletionCriterion { return &models.CompletionCriterion{ID: id} })
	visibilityRoles    = idsAs(models.Roles, func(id string) *models.VisibilityRole { return &models.VisibilityRole{ID: id} })
	modalities         = idsAs(models.Modalities, func(id string) *models.Modality { return &models.Modality{ID: id} })
)
