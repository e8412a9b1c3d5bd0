package models

import (
	"fmt"
	"slices"
	"strings"
)

// Label is one metadata label of le-utils (le_utils/constants/labels).
// Nested labels have dotted ids: "d&WXdXWF.qs0Xlaxq" (Mathematics) is under
// "d&WXdXWF" (School).
type Label struct {
	ID       string
	Name     string // le-utils' English name, "Mathematics"
	Constant string // le-utils' Python name, "MATHEMATICS"
}

// Parent is the id of the label this one is nested under, "" for a top-level one.
func (l Label) Parent() string {
	if i := strings.LastIndex(l.ID, "."); i >= 0 {
		return l.ID[:i]
	}
	return ""
}

// LabelSet is one le-utils label module and the content node field that
// holds its ids as a JSON map {label_id: true}.
type LabelSet struct {
	Field  string // "categories"
	Module string // le-utils' module, "subjects"
	Labels []Label
}

// LabelSets lists the six label sets, generated from le-utils.
var LabelSets = leLabelSets

// LabelFields are the ContentNode metadata label fields, in LabelSets' order.
var LabelFields = func() []string {
	var out []string
	for _, s := range LabelSets {
		out = append(out, s.Field)
	}
	return out
}()

// LabelSetOf returns the label set a content node field holds.
func LabelSetOf(field string) (LabelSet, bool) {
	i := slices.IndexFunc(LabelSets, func(s LabelSet) bool { return s.Field == field })
	if i < 0 {
		return LabelSet{}, false
	}
	return LabelSets[i], true
}

// Label finds a label by its exact id.
func (s LabelSet) Label(id string) (Label, bool) {
	i := slices.IndexFunc(s.Labels, func(l Label) bool { return l.ID == id })
	if i < 0 {
		return Label{}, false
	}
	return s.Labels[i], true
}

// ValidateLabel checks that id is a label of the set node field holds. Ids
// are le-utils' exactly, as Kolibri filters on them; an unknown one is
// refused (as Studio's ricecooker endpoint does), with the closest ids.
// A field that holds no label set is not checked here.
func ValidateLabel(field, id string) error {
	s, ok := LabelSetOf(field)
	if !ok {
		return nil
	}
	if _, ok := s.Label(id); ok {
		return nil
	}
	var hints []string
	for _, l := range s.closest(id) {
		hints = append(hints, fmt.Sprintf("%q (%s)", l.ID, l.Name))
	}
	if len(hints) > 0 {
		return Errorf(CodeBadUserInput, "%q is not a label of le-utils' %s; did you mean %s?", id, s.Module, strings.Join(hints, ", "))
	}
	return Errorf(CodeBadUserInput, "%q is not a label of le-utils' %s; use one of its ids, such as %q (%s)",
		id, s.Module, s.Labels[0].ID, s.Labels[0].Name)
}

// closest returns up to 3 labels nearest to id: one whose name or Python
// name id spells ("Mathematics", "MATHEMATICS"), then ids near id.
func (s LabelSet) closest(id string) []Label {
	fold := func(x string) string { return strings.ToLower(strings.NewReplacer(" ", "", "_", "").Replace(x)) }
	var out []Label
	for _, l := range s.Labels {
		if fold(l.Name) == fold(id) || fold(l.Constant) == fold(id) {
			out = append(out, l)
		}
	}
	ids := make([]string, len(s.Labels))
	for i, l := range s.Labels {
		ids[i] = l.ID
	}
	for _, near := range leSuggest(id, ids) {
		l, _ := s.Label(near)
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out[:min(len(out), 3)]
}
