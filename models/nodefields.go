package models

// NodeField is one column of content_nodes, declared once: what the
// GraphQL schema calls it, how a change sets it, and what a copy does with
// it. The lists that used to be written out by hand (read-only fields, text
// limits, authoring fields, copied columns, typed inputs, prefetch columns,
// the direct reader's writer) are derived from NodeFields.
//
// Adding a field to nodes touches the schema, ContentNode, a migration and
// this table; TestNodeFieldsAreDeclared fails until all four agree.
type NodeField struct {
	// Column is the content_nodes column, and the name changes use for it
	// (Studio's snake_case sync names).
	Column string
	// GraphQL is ContentNode's field, and the typed inputs' ("": none, or
	// one the resolvers compute from it, such as channel or createdBy).
	GraphQL string
	Type    FieldType
	// Limit is a text field's longest value, in characters, as Studio's column.
	Limit int
	Flags FieldFlags
	// Of is the node's field: a *string, *map[string]any, *bool, *ID,
	// **ID, **int, *float64 or *time.Time.
	Of func(n *ContentNode) any
}

// FieldType says how a change sets a field, and how it is written out.
type FieldType int

// The field types.
const (
	FieldText        FieldType = iota // a string of at most Limit characters
	FieldObject                       // a JSON object, merged key by key
	FieldLabels                       // le-utils label ids mapped to true
	FieldContentKind                  // a content kind, set on creation only
	FieldLicense                      // a license, by name or Studio's id
	FieldLanguage                     // a language code, as le-utils spells it
	FieldRole                         // learner or coach
	FieldDuration                     // whole seconds, or null
	FieldComplete                     // the client's claim, which the server checks
	FieldBool
	FieldID
	FieldOptionalID
	FieldTime
	FieldOrder // sort_order
)

// FieldFlags say what the server and copies do with a field.
type FieldFlags int

// The field flags.
const (
	// ReadOnly fields are the server's: a change that sets one is ignored,
	// so that Studio's payloads carry over.
	ReadOnly FieldFlags = 1 << iota
	// Copied fields are taken from the source as they are by a copy.
	Copied
	// Authoring fields are frozen on a node copied from a channel its copier
	// could not edit; on a copy's root only the source's editors set them.
	Authoring
	// CopyMod fields may be set by anyone on the root of a copy (Studio's
	// copy mods, studio-backend.md §2.10); Authoring ones by editors only.
	CopyMod
	// SetOnCreate read-only fields may be given when a node is created (as
	// Studio allows for imports: a chef's node_id and content_id are kept,
	// so that a re-run makes the same Kolibri ids), never changed after.
	SetOnCreate
)

// Has says whether f has every flag in flags.
func (f NodeField) Has(flags FieldFlags) bool { return f.Flags&flags == flags }

// NodeFields are content_nodes' columns, in the order of ContentNode's fields.
var NodeFields = []NodeField{
	{Column: "id", GraphQL: "id", Type: FieldID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.ID }},
	{Column: "channel_id", Type: FieldID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.ChannelID }},
	{Column: "root_id", Type: FieldID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.RootID }},
	{Column: "parent_id", Type: FieldOptionalID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.ParentID }},
	{Column: "sort_order", GraphQL: "sortOrder", Type: FieldOrder, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.SortOrder }},
	{Column: "node_id", GraphQL: "nodeId", Type: FieldID, Flags: ReadOnly | SetOnCreate, Of: func(n *ContentNode) any { return &n.NodeID }},
	{Column: "content_id", GraphQL: "contentId", Type: FieldID, Flags: ReadOnly | SetOnCreate | Copied, Of: func(n *ContentNode) any { return &n.ContentID }},
	{Column: "kind", GraphQL: "kind", Type: FieldContentKind, Flags: Copied, Of: func(n *ContentNode) any { return &n.Kind }},
	{Column: "title", GraphQL: "title", Type: FieldText, Limit: 200, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.Title }},
	{Column: "description", GraphQL: "description", Type: FieldText, Limit: 100000, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.Description }},
	{Column: "author", GraphQL: "author", Type: FieldText, Limit: 200, Flags: Copied | Authoring, Of: func(n *ContentNode) any { return &n.Author }},
	{Column: "aggregator", GraphQL: "aggregator", Type: FieldText, Limit: 200, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.Aggregator }},
	{Column: "provider", GraphQL: "provider", Type: FieldText, Limit: 200, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.Provider }},
	{Column: "copyright_holder", GraphQL: "copyrightHolder", Type: FieldText, Limit: 200, Flags: Copied | Authoring, Of: func(n *ContentNode) any { return &n.CopyrightHolder }},
	{Column: "license", GraphQL: "license", Type: FieldLicense, Flags: Copied | Authoring, Of: func(n *ContentNode) any { return &n.LicenseName }},
	{Column: "license_description", GraphQL: "licenseDescription", Type: FieldText, Limit: 400, Flags: Copied | Authoring, Of: func(n *ContentNode) any { return &n.LicenseDescription }},
	{Column: "language", GraphQL: "language", Type: FieldLanguage, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.LanguageCode }},
	{Column: "role_visibility", GraphQL: "roleVisibility", Type: FieldRole, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.RoleVisibility }},
	{Column: "extra_fields", GraphQL: "extraFields", Type: FieldObject, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.ExtraFields }},
	{Column: "thumbnail_encoding", GraphQL: "thumbnailEncoding", Type: FieldObject, Flags: Copied, Of: func(n *ContentNode) any { return &n.ThumbnailEncoding }},
	{Column: "grade_levels", GraphQL: "gradeLevels", Type: FieldLabels, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.GradeLevels }},
	{Column: "resource_types", GraphQL: "resourceTypes", Type: FieldLabels, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.ResourceTypes }},
	{Column: "learning_activities", GraphQL: "learningActivities", Type: FieldLabels, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.LearningActivities }},
	{Column: "accessibility_labels", GraphQL: "accessibilityLabels", Type: FieldLabels, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.AccessibilityLabels }},
	{Column: "categories", GraphQL: "categories", Type: FieldLabels, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.Categories }},
	{Column: "learner_needs", GraphQL: "learnerNeeds", Type: FieldLabels, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.LearnerNeeds }},
	{Column: "suggested_duration", GraphQL: "suggestedDuration", Type: FieldDuration, Flags: Copied | CopyMod, Of: func(n *ContentNode) any { return &n.SuggestedDuration }},
	{Column: "complete", GraphQL: "complete", Type: FieldComplete, Flags: Copied, Of: func(n *ContentNode) any { return &n.Complete }},
	{Column: "changed", GraphQL: "changed", Type: FieldBool, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.Changed }},
	{Column: "published", GraphQL: "published", Type: FieldBool, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.Published }},
	{Column: "freeze_authoring_data", GraphQL: "freezeAuthoringData", Type: FieldBool, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.FreezeAuthoringData }},
	{Column: "source_channel_id", GraphQL: "sourceChannelId", Type: FieldOptionalID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.SourceChannelID }},
	{Column: "source_node_id", GraphQL: "sourceNodeId", Type: FieldOptionalID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.SourceNodeID }},
	{Column: "original_channel_id", GraphQL: "originalChannelId", Type: FieldOptionalID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.OriginalChannelID }},
	{Column: "original_source_node_id", GraphQL: "originalSourceNodeId", Type: FieldOptionalID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.OriginalSourceNodeID }},
	{Column: "source_id", GraphQL: "sourceId", Type: FieldText, Limit: 200, Flags: Copied, Of: func(n *ContentNode) any { return &n.SourceID }},
	{Column: "source_domain", GraphQL: "sourceDomain", Type: FieldText, Limit: 200, Flags: Copied, Of: func(n *ContentNode) any { return &n.SourceDomain }},
	{Column: "created_at", GraphQL: "createdAt", Type: FieldTime, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.CreatedAt }},
	{Column: "modified_at", GraphQL: "modifiedAt", Type: FieldTime, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.ModifiedAt }},
	{Column: "created_by_id", Type: FieldOptionalID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.CreatedByID }},
	{Column: "modified_by_id", Type: FieldOptionalID, Flags: ReadOnly, Of: func(n *ContentNode) any { return &n.ModifiedByID }},
}

var nodeFieldsByColumn, nodeFieldsByGraphQL = func() (map[string]*NodeField, map[string]*NodeField) {
	byCol, byGQL := map[string]*NodeField{}, map[string]*NodeField{}
	for i := range NodeFields {
		f := &NodeFields[i]
		byCol[f.Column] = f
		if f.GraphQL != "" {
			byGQL[f.GraphQL] = f
		}
	}
	return byCol, byGQL
}()

// NodeFieldByColumn returns the field of a column (a change's name), or nil.
func NodeFieldByColumn(column string) *NodeField { return nodeFieldsByColumn[column] }

// NodeFieldByGraphQL returns the field ContentNode calls name, or nil.
func NodeFieldByGraphQL(name string) *NodeField { return nodeFieldsByGraphQL[name] }

// NodeColumns lists the columns of the fields that have every flag in
// flags (0: all of them), in NodeFields' order.
func NodeColumns(flags FieldFlags) []string {
	var out []string
	for _, f := range NodeFields {
		if f.Has(flags) {
			out = append(out, f.Column)
		}
	}
	return out
}
