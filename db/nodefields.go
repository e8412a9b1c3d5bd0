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

// studioComputed are names Studio's clients send in a node's obj for values
// Studio's server computes, with no column here; like read-only fields
// (models.ReadOnly) they are ignored, so that Studio payloads carry over.
var studioComputed = map[string]bool{
	"lft": true, "rght": true, "level": true, "tree_id": true, "total_count": true, "resource_count": true,
	"coach_count": true, "error_count": true, "has_children": true, "thumbnail_src": true,
	"original_channel_name": true, "original_parent_id": true, "has_updated_descendants": true,
	"has_new_descendants": true, "assessment_item_count": true, "modified": true, "created": true,
}

// set applies one field of an obj (creating) or mods (updating) to the node.
// Keys of mods may be dot paths into JSON fields, label maps and tags.
func (e *nodeEdit) set(key string, v any, creating bool) error {
	field, path, dotted := strings.Cut(key, ".")
	f := models.NodeFieldByColumn(field)
	serverOwned := f != nil && f.Has(models.ReadOnly) && (!creating || !f.Has(models.SetOnCreate))
	if !dotted && (studioComputed[field] || serverOwned) {
		return nil
	}
	if e.n.FreezeAuthoringData && f != nil && f.Has(models.Authoring) {
		return badField(field, "this node was copied from a channel you could not edit, so its authoring data is frozen")
	}
	e.fieldsChanged = append(e.fieldsChanged, field)
	if dotted {
		return e.setPath(field, path, v)
	}
	n := e.n
	switch {
	case field == "tags":
		obj, ok := v.(map[string]any)
		if !ok {
			return badField(field, "must be a map of tag names to true (or null to remove), not %s", kindOf(v))
		}
		for name, on := range obj {
			if err := e.tag(name, on); err != nil {
				return err
			}
		}
		return nil
	case field == "parent":
		if !creating {
			return badField(field, "this field should only be changed by a move operation")
		}
		return nil
	case f == nil:
		return badField(field, "is not a field of a content node (changes use Studio's snake_case names, such as copyright_holder and extra_fields)")
	}
	switch f.Type {
	case models.FieldText:
		s, err := stringValue(field, v)
		if err != nil {
			return err
		}
		if len([]rune(s)) > f.Limit {
			return badField(field, "is longer than %d characters", f.Limit)
		}
		*f.Of(n).(*string) = s
	case models.FieldLabels, models.FieldObject:
		obj, err := objectValue(field, v)
		if err != nil {
			return err
		}
		if f.Type == models.FieldLabels {
			if err := checkLabels(field, obj); err != nil {
				return err
			}
		}
		dst := f.Of(n).(*map[string]any)
		if creating || *dst == nil {
			*dst = map[string]any{}
		}
		models.MergeObject(*dst, obj)
	case models.FieldContentKind:
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
	case models.FieldLicense:
		name, err := licenseValue(v)
		if err != nil {
			return err
		}
		*f.Of(n).(*string) = name
	case models.FieldLanguage:
		s, err := languageValue(field, v)
		if err != nil {
			return err
		}
		*f.Of(n).(*string) = s
	case models.FieldRole:
		s, err := stringValue(field, v)
		if err != nil {
			return err
		}
		if s != models.RoleLearner && s != models.RoleCoach {
			return badField(field, "must be learner or coach")
		}
		*f.Of(n).(*string) = s
	case models.FieldDuration:
		dst := f.Of(n).(**int)
		if v == nil {
			*dst = nil
			return nil
		}
		i, ok := intValue(v)
		if !ok || i < 0 {
			return badField(field, "must be a whole number of seconds, 0 or more")
		}
		*dst = &i
	case models.FieldID: // node_id and content_id, on creation
		if v == nil {
			return nil // generated
		}
		id, err := idValue(field, v)
		if err != nil {
			return err
		}
		*f.Of(n).(*models.ID) = id
	case models.FieldComplete:
		b, ok := v.(bool)
		if !ok {
			return badField(field, "must be true or false")
		}
		e.claimsComplete = b
	default:
		return badField(field, "is set by the server")
	}
	return nil
}

// setPath applies a dot-path modification inside a JSON field, label map or tags.
func (e *nodeEdit) setPath(field, path string, v any) error {
	if field == "tags" {
		if strings.Contains(path, ".") {
			return badField("tags", "a tag path is tags.<name>")
		}
		return e.tag(path, v)
	}
	f := models.NodeFieldByColumn(field)
	if f == nil || f.Type != models.FieldObject && f.Type != models.FieldLabels {
		return badField(field, "is not a JSON field, label map or tags: it takes no dot path")
	}
	dst := f.Of(e.n).(*map[string]any)
	if f.Type == models.FieldLabels {
		if v != nil && v != true {
			return badField(field+"."+path, "a label is set with true and removed with null")
		}
		if err := checkLabel(field, path, v); err != nil {
			return err
		}
		if *dst == nil {
			*dst = map[string]any{}
		}
		if v == nil {
			delete(*dst, path)
		} else {
			(*dst)[path] = true
		}
		return nil
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
