package db

import (
	"encoding/json"
	"math"
	"strings"

	"studio/models"
)

// nodeEdit is a node being created or changed by one change: the node with
// the change applied, and the tags it adds and removes.
type nodeEdit struct {
	n          *models.ContentNode
	addTags    []string
	removeTags []string
	// claimsComplete is the client's complete: true, which the server checks.
	claimsComplete bool
	// fieldsChanged lists the top-level fields the change set.
	fieldsChanged []string
}

// readOnlyNodeFields are fields Studio's clients send in a node's obj that the
// server computes or owns; they are ignored, so Studio payloads carry over.
var readOnlyNodeFields = map[string]bool{
	"id": true, "lft": true, "rght": true, "level": true, "tree_id": true, "root_id": true,
	"channel_id": true, "total_count": true, "resource_count": true, "coach_count": true,
	"error_count": true, "has_children": true, "thumbnail_src": true, "original_channel_name": true,
	"original_parent_id": true, "has_updated_descendants": true, "has_new_descendants": true,
	"assessment_item_count": true, "modified": true, "created": true, "published": true,
	"changed": true, "original_source_node_id": true, "original_channel_id": true,
	"source_node_id": true, "source_channel_id": true, "node_id": true, "content_id": true,
	"sort_order": true, "freeze_authoring_data": true, "parent_id": true,
}

// textLimits are the longest values of text fields, as Studio's columns.
var textLimits = map[string]int{
	"title": 200, "author": 200, "aggregator": 200, "provider": 200, "copyright_holder": 200,
	"license_description": 400, "description": 100000,
}

// authoringFields may not change on a node copied from a channel its copier could not edit.
var authoringFields = map[string]bool{"license": true, "license_description": true, "copyright_holder": true, "author": true}

func labelMap(n *models.ContentNode, field string) *map[string]any {
	switch field {
	case "grade_levels":
		return &n.GradeLevels
	case "resource_types":
		return &n.ResourceTypes
	case "learning_activities":
		return &n.LearningActivities
	case "accessibility_labels":
		return &n.AccessibilityLabels
	case "categories":
		return &n.Categories
	case "learner_needs":
		return &n.LearnerNeeds
	}
	return nil
}

func textField(n *models.ContentNode, field string) *string {
	switch field {
	case "title":
		return &n.Title
	case "description":
		return &n.Description
	case "author":
		return &n.Author
	case "aggregator":
		return &n.Aggregator
	case "provider":
		return &n.Provider
	case "copyright_holder":
		return &n.CopyrightHolder
	case "license_description":
		return &n.LicenseDescription
	}
	return nil
}

// set applies one field of an obj (creating) or mods (updating) to the node.
// Keys of mods may be dot paths into JSON fields, label maps and tags.
func (e *nodeEdit) set(key string, v any, creating bool) error {
	field, path, dotted := strings.Cut(key, ".")
	if readOnlyNodeFields[field] && !dotted {
		return nil
	}
	if e.n.FreezeAuthoringData && authoringFields[field] {
		return badField(field, "this node was copied from a channel you could not edit, so its authoring data is frozen")
	}
	e.fieldsChanged = append(e.fieldsChanged, field)
	if dotted {
		return e.setPath(field, path, v)
	}
	n := e.n
	if p := textField(n, field); p != nil {
		s, err := stringValue(field, v)
		if err != nil {
			return err
		}
		if len([]rune(s)) > textLimits[field] {
			return badField(field, "is longer than %d characters", textLimits[field])
		}
		*p = s
		return nil
	}
	if m := labelMap(n, field); m != nil {
		obj, err := objectValue(field, v)
		if err != nil {
			return err
		}
		if err := checkLabels(field, obj); err != nil {
			return err
		}
		if creating || *m == nil {
			*m = map[string]any{}
		}
		models.MergeObject(*m, obj)
		return nil
	}
	switch field {
	case "kind":
		s, err := stringValue(field, v)
		if err != nil {
			return err
		}
		if !creating {
			if s != n.Kind {
				return badField(field, "content kind cannot be changed after creation: create a node of the new kind (copy its fields) and delete this one")
			}
			return nil
		}
		if !models.IsKind(s) {
			return badField(field, "%q is not a content kind; use one of %s", s, strings.Join(models.Kinds, ", "))
		}
		n.Kind = s
	case "parent":
		if !creating {
			return badField(field, "this field should only be changed by a move operation")
		}
	case "license":
		name, err := licenseValue(v)
		if err != nil {
			return err
		}
		n.LicenseName = name
	case "language":
		s, err := languageValue(field, v)
		if err != nil {
			return err
		}
		n.LanguageCode = s
	case "role_visibility":
		s, err := stringValue(field, v)
		if err != nil {
			return err
		}
		if s != models.RoleLearner && s != models.RoleCoach {
			return badField(field, "must be learner or coach")
		}
		n.RoleVisibility = s
	case "extra_fields", "thumbnail_encoding":
		obj, err := objectValue(field, v)
		if err != nil {
			return err
		}
		dst := &n.ExtraFields
		if field == "thumbnail_encoding" {
			dst = &n.ThumbnailEncoding
		}
		if creating || *dst == nil {
			*dst = map[string]any{}
		}
		models.MergeObject(*dst, obj)
	case "suggested_duration":
		if v == nil {
			n.SuggestedDuration = nil
			return nil
		}
		i, ok := intValue(v)
		if !ok || i < 0 {
			return badField(field, "must be a whole number of seconds, 0 or more")
		}
		n.SuggestedDuration = &i
	case "tags":
		obj, ok := v.(map[string]any)
		if !ok {
			return badField(field, "must be a map of tag names to true (or null to remove), not %s", kindOf(v))
		}
		for name, on := range obj {
			if err := e.tag(name, on); err != nil {
				return err
			}
		}
	case "complete":
		b, ok := v.(bool)
		if !ok {
			return badField(field, "must be true or false")
		}
		e.claimsComplete = b
	default:
		return badField(field, "is not a field of a content node (changes use Studio's snake_case names, such as copyright_holder and extra_fields)")
	}
	return nil
}

// setPath applies a dot-path modification inside a JSON field, label map or tags.
func (e *nodeEdit) setPath(field, path string, v any) error {
	n := e.n
	switch {
	case field == "tags":
		if strings.Contains(path, ".") {
			return badField("tags", "a tag path is tags.<name>")
		}
		return e.tag(path, v)
	case field == "extra_fields" || field == "thumbnail_encoding":
		dst := &n.ExtraFields
		if field == "thumbnail_encoding" {
			dst = &n.ThumbnailEncoding
		}
		if *dst == nil {
			*dst = map[string]any{}
		}
		if err := models.ValidateText("", path); err != nil {
			return badField(field, "a key: %v", err)
		}
		if _, err := models.NormalizeJSON(v); err != nil {
			return badField(field+"."+path, "%v", err)
		}
		if err := models.SetPath(*dst, path, v); err != nil {
			return badField(field+"."+path, "%v", err)
		}
	case labelMap(n, field) != nil:
		if v != nil && v != true {
			return badField(field+"."+path, "a label is set with true and removed with null")
		}
		if err := checkLabel(field, path, v); err != nil {
			return err
		}
		m := labelMap(n, field)
		if *m == nil {
			*m = map[string]any{}
		}
		if v == nil {
			delete(*m, path)
		} else {
			(*m)[path] = true
		}
	default:
		return badField(field, "is not a JSON field, label map or tags: it takes no dot path")
	}
	return nil
}

// tag adds (true) or removes (null) one tag.
func (e *nodeEdit) tag(name string, v any) error {
	switch v {
	case nil, false:
		if err := models.ValidateText("tag", name); err != nil {
			return badField("tags", "%v", err)
		}
		e.removeTags = append(e.removeTags, name)
		return nil
	case true:
		if err := models.ValidateTag(name); err != nil {
			return badField("tags", "%v", err)
		}
		if err := models.ValidateTagCount(len(e.addTags) + 1); err != nil {
			return badField("tags", "%v", err) // before the whole list is read
		}
		e.addTags = append(e.addTags, strings.TrimSpace(name))
		return nil
	}
	return badField("tags."+name, "a tag is added with true and removed with null")
}

func checkLabels(field string, obj map[string]any) error {
	for k, v := range obj {
		if v != nil && v != true {
			return badField(field+"."+k, "a label is set with true and removed with null")
		}
		if err := checkLabel(field, k, v); err != nil {
			return err
		}
	}
	return nil
}

// checkLabel refuses setting a label id le-utils does not list; removing
// one (null) is always allowed, so stale ids can be cleaned up.
func checkLabel(field, id string, v any) error {
	if v == nil {
		return nil
	}
	if err := models.ValidateLabel(field, id); err != nil {
		return badField(field+"."+id, "%v", err)
	}
	return nil
}

func stringValue(field string, v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		if err := models.ValidateText("", s); err != nil {
			return "", badField(field, "%v", err)
		}
		return s, nil
	}
	return "", badField(field, "must be a string, not %s", kindOf(v))
}

// languageValue reads a language code, as le-utils spells it ("pt-BR"); "" for none.
func languageValue(field string, v any) (string, error) {
	s, err := stringValue(field, v)
	if err != nil || s == "" {
		return s, err
	}
	l, err := models.LanguageByCode(s)
	if err != nil {
		return "", badField(field, "%v", err)
	}
	return l.ID, nil
}

func objectValue(field string, v any) (map[string]any, error) {
	switch m := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		// The JSON scalar checks clients' JSON; this keeps every other way in
		// from storing what cannot be read back.
		if _, err := models.NormalizeJSON(m); err != nil {
			return nil, badField(field, "%v", err)
		}
		return m, nil
	}
	return nil, badField(field, "must be a JSON object, not %s", kindOf(v))
}

// licenseValue accepts a license by name ("CC BY") or by Studio's numeric id.
func licenseValue(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	if s, ok := v.(string); ok {
		if s == "" {
			return "", nil
		}
		if l, ok := models.LicenseByName(s); ok {
			return l.Name, nil
		}
		return "", badField("license", "%q is not a license; use a name from the licenses query, such as \"CC BY\"", s)
	}
	if id, ok := intValue(v); ok {
		for _, l := range models.Licenses {
			if l.ID == id {
				return l.Name, nil
			}
		}
	}
	return "", badField("license", "must be a license name such as \"CC BY\"")
}

// intValue reads a whole JSON number, as decoders give it.
func intValue(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), x == int64(int(x))
	case float64:
		return int(x), x == math.Trunc(x) && math.Abs(x) < 1<<53
	case json.Number:
		i, err := x.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "a number"
}
