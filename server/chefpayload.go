package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"studio/db"
	"studio/models"
)

// The payloads of create_channel and add_nodes as ricecooker sends them
// (reference/ricecooker-api.md, "Payload shapes"), and their reading into
// db's chef types. Only their form is checked here (ids are ids, JSON
// strings decode, files are named <md5>.<ext>); what a node may hold is
// db's to decide, as for every other write.

// text is a string ricecooker may send as null.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a string or null, not %s", describeRaw(b))
	}
	*t = text(s)
	return nil
}

// seconds is a whole number of seconds ricecooker may send as null, or
// with a fraction (it is rounded).
type seconds struct{ n *int }

func (s *seconds) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		s.n = nil
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil || f < 0 || f > math.MaxInt32 {
		return fmt.Errorf("a number of seconds or null, not %s", describeRaw(b))
	}
	n := int(math.Round(f))
	s.n = &n
	return nil
}

// chefChannelJSON is create_channel's channel_data.
type chefChannelJSON struct {
	ID                string          `json:"id"`
	Name              text            `json:"name"`
	Thumbnail         text            `json:"thumbnail"`
	Language          text            `json:"language"`
	Description       text            `json:"description"`
	Tagline           text            `json:"tagline"`
	SourceDomain      text            `json:"source_domain"`
	SourceID          text            `json:"source_id"`
	RicecookerVersion text            `json:"ricecooker_version"`
	ExtraFields       json.RawMessage `json:"extra_fields"`
	Files             []chefFileJSON  `json:"files"`
}

func (c *chefChannelJSON) parse() (db.ChefChannel, error) {
	id, err := models.ParseID(c.ID)
	if err != nil {
		return db.ChefChannel{}, models.Errorf(models.CodeBadUserInput, "channel_data.id: %v", err)
	}
	extra, err := jsonObject(c.ExtraFields)
	if err != nil {
		return db.ChefChannel{}, models.Errorf(models.CodeBadUserInput, "channel_data.extra_fields: %v", err)
	}
	if c.Thumbnail != "" && !blobName.MatchString(string(c.Thumbnail)) {
		return db.ChefChannel{}, models.Errorf(models.CodeBadUserInput, "channel_data.thumbnail: %q is not a stored file's name, <md5>.<ext>", c.Thumbnail)
	}
	for i := range c.Files {
		if _, err := c.Files[i].parse(); err != nil {
			return db.ChefChannel{}, models.Errorf(models.CodeBadUserInput, "channel_data.files[%d]: %v", i, err)
		}
	}
	return db.ChefChannel{ID: id, Name: string(c.Name), Description: string(c.Description), Tagline: string(c.Tagline),
		Language: string(c.Language), Thumbnail: string(c.Thumbnail), SourceID: string(c.SourceID),
		SourceDomain: string(c.SourceDomain), RicecookerVersion: string(c.RicecookerVersion), ExtraFields: extra}, nil
}

// chefFileJSON is a file dict: a node's, a question's or the channel's.
type chefFileJSON struct {
	Size             *int64  `json:"size"`
	Preset           text    `json:"preset"`
	Filename         text    `json:"filename"`
	OriginalFilename text    `json:"original_filename"`
	Language         text    `json:"language"`
	SourceURL        text    `json:"source_url"`
	Duration         seconds `json:"duration"`
}

func (f *chefFileJSON) parse() (db.ChefFile, error) {
	if !blobName.MatchString(string(f.Filename)) {
		return db.ChefFile{}, fmt.Errorf("filename %q is not a stored file's name, <md5>.<ext>", f.Filename)
	}
	if f.Preset == "" {
		return db.ChefFile{}, fmt.Errorf("file %s has no preset", f.Filename)
	}
	var size int64
	if f.Size != nil {
		size = *f.Size
	}
	if size < 0 {
		return db.ChefFile{}, fmt.Errorf("file %s: size %d is negative", f.Filename, size)
	}
	return db.ChefFile{Filename: string(f.Filename), Preset: string(f.Preset), Size: size,
		OriginalFilename: string(f.OriginalFilename), Language: string(f.Language), SourceURL: string(f.SourceURL),
		Duration: f.Duration.n}, nil
}

// chefQuestionJSON is a question dict; answers and hints are JSON strings.
type chefQuestionJSON struct {
	AssessmentID string          `json:"assessment_id"`
	Type         text            `json:"type"`
	Question     text            `json:"question"`
	Answers      json.RawMessage `json:"answers"`
	Hints        json.RawMessage `json:"hints"`
	RawData      text            `json:"raw_data"`
	SourceURL    text            `json:"source_url"`
	Randomize    *bool           `json:"randomize"`
	Files        []chefFileJSON  `json:"files"`
}

func (q *chefQuestionJSON) parse() (db.ChefQuestion, error) {
	id, err := models.ParseID(q.AssessmentID)
	if err != nil {
		return db.ChefQuestion{}, fmt.Errorf("assessment_id: %w", err)
	}
	answers, err := jsonList(q.Answers)
	if err != nil {
		return db.ChefQuestion{}, fmt.Errorf("answers: %w", err)
	}
	hints, err := jsonList(q.Hints)
	if err != nil {
		return db.ChefQuestion{}, fmt.Errorf("hints: %w", err)
	}
	files := make([]db.ChefFile, len(q.Files))
	for i := range q.Files {
		if files[i], err = q.Files[i].parse(); err != nil {
			return db.ChefQuestion{}, fmt.Errorf("files[%d]: %w", i, err)
		}
	}
	return db.ChefQuestion{AssessmentID: id, Type: string(q.Type), Question: string(q.Question), Answers: answers,
		Hints: hints, RawData: string(q.RawData), SourceURL: string(q.SourceURL), Randomize: q.Randomize != nil && *q.Randomize,
		Files: files}, nil
}

// chefNodeJSON is a node dict of add_nodes' content_data. A copied node
// (source_channel_id set) has no kind, and only some of the fields, which
// override the source's.
type chefNodeJSON struct {
	NodeID             string             `json:"node_id"`
	ContentID          text               `json:"content_id"`
	SourceID           text               `json:"source_id"`
	SourceDomain       text               `json:"source_domain"`
	Kind               text               `json:"kind"`
	Title              text               `json:"title"`
	Description        text               `json:"description"`
	Author             text               `json:"author"`
	Aggregator         text               `json:"aggregator"`
	Provider           text               `json:"provider"`
	CopyrightHolder    text               `json:"copyright_holder"`
	License            text               `json:"license"`
	LicenseDescription text               `json:"license_description"`
	Language           text               `json:"language"`
	Role               text               `json:"role"`
	SuggestedDuration  seconds            `json:"suggested_duration"`
	ExtraFields        json.RawMessage    `json:"extra_fields"`
	Tags               []text             `json:"tags"`
	Files              []chefFileJSON     `json:"files"`
	Questions          []chefQuestionJSON `json:"questions"`

	GradeLevels         labelList `json:"grade_levels"`
	ResourceTypes       labelList `json:"resource_types"`
	LearningActivities  labelList `json:"learning_activities"`
	AccessibilityLabels labelList `json:"accessibility_labels"`
	Categories          labelList `json:"categories"`
	LearnerNeeds        labelList `json:"learner_needs"`

	SourceChannelID text `json:"source_channel_id"`
	SourceNodeID    text `json:"source_node_id"`
	SourceContentID text `json:"source_content_id"`
}

func (n *chefNodeJSON) parse() (db.ChefNode, error) {
	var out db.ChefNode
	var err error
	if out.NodeID, err = models.ParseID(n.NodeID); err != nil {
		return out, fmt.Errorf("node_id: %w", err)
	}
	if n.ContentID != "" {
		if out.ContentID, err = models.ParseID(string(n.ContentID)); err != nil {
			return out, fmt.Errorf("content_id: %w", err)
		}
	}
	for _, ref := range []struct {
		name string
		s    text
		dst  **models.ID
	}{{"source_channel_id", n.SourceChannelID, &out.SourceChannelID}, {"source_node_id", n.SourceNodeID, &out.SourceNodeID},
		{"source_content_id", n.SourceContentID, &out.SourceContentID}} {
		if ref.s == "" {
			continue
		}
		id, err := models.ParseID(string(ref.s))
		if err != nil {
			return out, fmt.Errorf("%s: %w", ref.name, err)
		}
		*ref.dst = &id
	}
	switch {
	case out.SourceChannelID == nil && n.Kind == "":
		return out, fmt.Errorf("kind is missing (only a copy, with source_channel_id, has none)")
	case out.SourceChannelID == nil && out.ContentID.IsZero():
		return out, fmt.Errorf("content_id is missing")
	case out.SourceChannelID != nil && out.SourceNodeID == nil && out.SourceContentID == nil:
		return out, fmt.Errorf("a copy names its source by source_node_id or source_content_id")
	}
	if out.ExtraFields, err = jsonObject(n.ExtraFields); err != nil {
		return out, fmt.Errorf("extra_fields: %w", err)
	}
	out.SourceID, out.SourceDomain, out.Kind = string(n.SourceID), string(n.SourceDomain), string(n.Kind)
	out.Title, out.Description, out.Author = string(n.Title), string(n.Description), string(n.Author)
	out.Aggregator, out.Provider, out.CopyrightHolder = string(n.Aggregator), string(n.Provider), string(n.CopyrightHolder)
	out.License, out.LicenseDescription = string(n.License), string(n.LicenseDescription)
	out.Language, out.Role, out.SuggestedDuration = string(n.Language), string(n.Role), n.SuggestedDuration.n
	for _, t := range n.Tags {
		out.Tags = append(out.Tags, string(t))
	}
	out.Labels = map[string][]string{}
	for field, ids := range map[string]labelList{"grade_levels": n.GradeLevels, "resource_types": n.ResourceTypes,
		"learning_activities": n.LearningActivities, "accessibility_labels": n.AccessibilityLabels,
		"categories": n.Categories, "learner_needs": n.LearnerNeeds} {
		if len(ids) > 0 {
			out.Labels[field] = ids
		}
	}
	out.Files = make([]db.ChefFile, len(n.Files))
	for i := range n.Files {
		if out.Files[i], err = n.Files[i].parse(); err != nil {
			return out, fmt.Errorf("files[%d]: %w", i, err)
		}
	}
	out.Questions = make([]db.ChefQuestion, len(n.Questions))
	seen := make(map[models.ID]bool, len(n.Questions))
	for i := range n.Questions {
		if out.Questions[i], err = n.Questions[i].parse(); err != nil {
			return out, fmt.Errorf("questions[%d]: %w", i, err)
		}
		if seen[out.Questions[i].AssessmentID] {
			return out, fmt.Errorf("questions[%d]: assessment_id %s is another question's too", i, out.Questions[i].AssessmentID)
		}
		seen[out.Questions[i].AssessmentID] = true
	}
	return out, nil
}

// labelList is a node's label ids: a list, as ricecooker sends them, or
// Studio's map of id to true.
type labelList []string

func (l *labelList) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*l = list
		return nil
	}
	var set map[string]bool
	if err := json.Unmarshal(b, &set); err != nil {
		return fmt.Errorf("a list of label ids, not %s", describeRaw(b))
	}
	*l = nil
	for id, on := range set {
		if on {
			*l = append(*l, id)
		}
	}
	return nil
}

// jsonObject decodes a JSON object that ricecooker sends JSON-encoded, as
// a string (or, from other clients, as it is); null and "" are none.
func jsonObject(raw json.RawMessage) (map[string]any, error) {
	v, err := jsonEncoded(raw)
	if err != nil || v == nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("an object (JSON-encoded), not %s", describeJSON(v))
	}
	return m, nil
}

// jsonList is jsonObject for a list.
func jsonList(raw json.RawMessage) ([]any, error) {
	v, err := jsonEncoded(raw)
	if err != nil || v == nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("a list (JSON-encoded), not %s", describeJSON(v))
	}
	return l, nil
}

func jsonEncoded(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		if s == "" {
			return nil, nil
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("the string is not JSON: %w", err)
		}
	}
	return v, nil
}

func describeJSON(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func describeRaw(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return "that"
	}
	return describeJSON(v)
}
