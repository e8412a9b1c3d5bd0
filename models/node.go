package models

import (
	"time"

	"github.com/uptrace/bun"
)

// ContentNode is one node of a channel's tree: a topic or a resource.
type ContentNode struct {
	bun.BaseModel `bun:"table:content_nodes,alias:cn"`

	ID        ID  `bun:"id,pk,type:uuid"`
	ChannelID ID  `bun:"channel_id,type:uuid"`
	RootID    ID  `bun:"root_id,type:uuid"` // the tree: a channel's main or trash root
	ParentID  *ID `bun:"parent_id,type:uuid"`
	// SortOrder orders siblings; a new node takes a value between its neighbours.
	SortOrder float64 `bun:"sort_order"`

	NodeID               ID             `bun:"node_id,type:uuid"`
	ContentID            ID             `bun:"content_id,type:uuid"`
	Kind                 string         `bun:"kind"`
	Title                string         `bun:"title"`
	Description          string         `bun:"description"`
	Author               string         `bun:"author"`
	Aggregator           string         `bun:"aggregator"`
	Provider             string         `bun:"provider"`
	CopyrightHolder      string         `bun:"copyright_holder"`
	LicenseName          string         `bun:"license"`
	LicenseDescription   string         `bun:"license_description"`
	LanguageCode         string         `bun:"language"`
	RoleVisibility       string         `bun:"role_visibility"`
	ExtraFields          map[string]any `bun:"extra_fields,type:jsonb"`
	ThumbnailEncoding    map[string]any `bun:"thumbnail_encoding,type:jsonb"`
	GradeLevels          map[string]any `bun:"grade_levels,type:jsonb"`
	ResourceTypes        map[string]any `bun:"resource_types,type:jsonb"`
	LearningActivities   map[string]any `bun:"learning_activities,type:jsonb"`
	AccessibilityLabels  map[string]any `bun:"accessibility_labels,type:jsonb"`
	Categories           map[string]any `bun:"categories,type:jsonb"`
	LearnerNeeds         map[string]any `bun:"learner_needs,type:jsonb"`
	SuggestedDuration    *int           `bun:"suggested_duration"`
	Complete             bool           `bun:"complete"`
	Changed              bool           `bun:"changed"`
	Published            bool           `bun:"published"`
	FreezeAuthoringData  bool           `bun:"freeze_authoring_data"`
	SourceChannelID      *ID            `bun:"source_channel_id,type:uuid"`
	SourceNodeID         *ID            `bun:"source_node_id,type:uuid"`
	OriginalChannelID    *ID            `bun:"original_channel_id,type:uuid"`
	OriginalSourceNodeID *ID            `bun:"original_source_node_id,type:uuid"`
	// SourceID and SourceDomain name the node where a chef found it.
	SourceID     string    `bun:"source_id"`
	SourceDomain string    `bun:"source_domain"`
	CreatedAt    time.Time `bun:"created_at"`
	ModifiedAt   time.Time `bun:"modified_at"`
	CreatedByID  *ID       `bun:"created_by_id,type:uuid"`
	ModifiedByID *ID       `bun:"modified_by_id,type:uuid"`
}

// Tag is one tag of a node.
type Tag struct {
	bun.BaseModel `bun:"table:content_tags,alias:tg"`

	NodeID ID     `bun:"node_id,pk,type:uuid"`
	Name   string `bun:"name,pk"`
}

// Prerequisite says a learner should complete PrerequisiteID before TargetNodeID.
type Prerequisite struct {
	bun.BaseModel `bun:"table:prerequisites,alias:pr"`

	TargetNodeID   ID `bun:"target_node_id,pk,type:uuid"`
	PrerequisiteID ID `bun:"prerequisite_id,pk,type:uuid"`
}

// AssessmentItem is one question of an exercise.
type AssessmentItem struct {
	bun.BaseModel `bun:"table:assessment_items,alias:ai"`

	ID           ID        `bun:"id,pk,type:uuid"`
	NodeID       ID        `bun:"node_id,type:uuid"`
	AssessmentID ID        `bun:"assessment_id,type:uuid"`
	Type         string    `bun:"type"`
	Question     string    `bun:"question"`
	Answers      []any     `bun:"answers,type:jsonb"`
	Hints        []any     `bun:"hints,type:jsonb"`
	RawData      string    `bun:"raw_data"`
	Order        int       `bun:"sort_order"`
	Randomize    bool      `bun:"randomize"`
	SourceURL    string    `bun:"source_url"`
	CreatedAt    time.Time `bun:"created_at"`
	ModifiedAt   time.Time `bun:"modified_at"`
}

// File is a stored blob attached to a node or an assessment item.
type File struct {
	bun.BaseModel `bun:"table:files,alias:f"`

	ID               ID        `bun:"id,pk,type:uuid"`
	NodeID           *ID       `bun:"node_id,type:uuid"`
	AssessmentItemID *ID       `bun:"assessment_item_id,type:uuid"`
	Checksum         string    `bun:"checksum"`
	Size             int64     `bun:"size"`
	Extension        string    `bun:"extension"`
	PresetID         string    `bun:"preset"`
	LanguageCode     string    `bun:"language"`
	Duration         *int      `bun:"duration"`
	OriginalFilename string    `bun:"original_filename"`
	SourceURL        string    `bun:"source_url"`
	UploadedByID     *ID       `bun:"uploaded_by_id,type:uuid"`
	CreatedAt        time.Time `bun:"created_at"`
	ModifiedAt       time.Time `bun:"modified_at"`
}

// StoragePath is where the blob lives: storage/<c0>/<c1>/<md5>.<ext>, as Studio and Kolibri lay it out.
func (f *File) StoragePath() string {
	if len(f.Checksum) < 2 {
		return ""
	}
	return "storage/" + f.Checksum[:1] + "/" + f.Checksum[1:2] + "/" + f.Checksum + "." + f.Extension
}

// IsChecksum says whether s is an md5 checksum as files are named by: 32
// lowercase hex digits.
func IsChecksum(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
