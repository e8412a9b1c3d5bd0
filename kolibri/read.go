package kolibri

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"studio/models"
)

// Reading turns a content database back into a channel's tree: the inverse
// of Export, for content schemas 5 and 6 (what Kolibri 0.15 to 0.19 import,
// and what Studio and studio publish). The rows are read as they are;
// what they become in studio is read_tree.go's call.

// Source is a channel as one content database holds it.
type Source struct {
	// Schema is the content schema the file fits: "5" or "6".
	Schema  string
	Channel ChannelMetadata
	// MinSchemaVersion and LastUpdated are content_channelmetadata's, as written.
	MinSchemaVersion string
	LastUpdated      string
	Author           string
	// Nodes are the tree from the root, parents before children and
	// siblings in order (lft order for a well-formed file).
	Nodes []*SourceNode
	// Languages are content_language's rows, in the order they were written
	// (Studio and studio write the channel's own language first).
	Languages []Language
	// Warnings say what the file holds that could not be read (rows with
	// malformed ids, nodes outside the tree).
	Warnings []string
}

// SourceNode is a content_contentnode row with what hangs off it.
type SourceNode struct {
	Node
	// Tags are the node's tag names, in the order they were written.
	Tags []string
	// Prerequisites are the ids of the nodes a learner should finish first.
	Prerequisites []string
	Files         []SourceFile
	// Assessment is the exercise's content_assessmentmetadata row, if any.
	Assessment *SourceAssessment
	// Children counts the node's children in the tree.
	Children int
}

// SourceFile is a content_file row with its content_localfile.
type SourceFile struct {
	File
	Extension string
	// Size is the blob's size in bytes (file_size_bigint, else file_size);
	// -1 when the file does not say.
	Size int64
}

// Filename is the stored blob's name: "<md5>.<ext>".
func (f SourceFile) Filename() string { return f.Checksum + "." + f.Extension }

// SourceAssessment is an exercise's content_assessmentmetadata row.
type SourceAssessment struct {
	ID           string
	ItemIDs      []string
	Count        int
	MasteryModel map[string]any // {"type", "m", "n"}
	Randomize    bool
	Manipulable  bool
}

// Mastery is the metadata's mastery model and its m and n (0 when absent).
func (a *SourceAssessment) Mastery() (model string, m, n int) {
	model, _ = a.MasteryModel["type"].(string)
	if f, ok := a.MasteryModel["m"].(float64); ok {
		m = int(f)
	}
	if f, ok := a.MasteryModel["n"].(float64); ok {
		n = int(f)
	}
	return model, m, n
}

// schemaTables are the tables and columns each content schema has, newest
// first, from Kolibri's frozen schemas (kolibri/core/content/contentschema/
// versions/content_schema_*.py). A file fits a version when it has every
// table and column of it; extra ones are ignored, as Kolibri's Bridge does.
var schemaTables = func() []struct {
	version string
	tables  map[string][]string
} {
	common := map[string]string{
		"content_assessmentmetadata":           "id assessment_item_ids number_of_assessments mastery_model randomize is_manipulable contentnode_id",
		"content_contentnode_has_prerequisite": "id from_contentnode_id to_contentnode_id",
		"content_contentnode_related":          "id from_contentnode_id to_contentnode_id",
		"content_contentnode_tags":             "id contentnode_id contenttag_id",
		"content_contenttag":                   "id tag_name",
	}
	const (
		language  = "id lang_code lang_subcode lang_name lang_direction"
		localfile = "id extension available file_size"
		file      = "id preset supplementary thumbnail priority contentnode_id lang_id local_file_id"
		file12    = "id available preset supplementary thumbnail priority contentnode_id lang_id local_file_id"
		fileOld   = "id checksum extension available file_size preset supplementary thumbnail priority contentnode_id lang_id"
		channel   = "id name description tagline author version thumbnail last_updated min_schema_version root_id"
		channel3  = "id name description author version thumbnail last_updated min_schema_version root_id"
		channelV0 = "id name description author version thumbnail root_pk"
		node4     = "id license_name license_description title coach_content content_id channel_id description sort_order license_owner author kind available options lft rght tree_id level lang_id parent_id"
	)
	specific := []struct {
		version string
		tables  map[string]string
	}{
		{"5", map[string]string{"content_language": language, "content_localfile": localfile, "content_file": file, "content_channelmetadata": channel,
			"content_contentnode": node4 + " grade_levels resource_types learning_activities accessibility_labels categories learner_needs duration"}},
		{"4", map[string]string{"content_language": language, "content_localfile": localfile, "content_file": file, "content_channelmetadata": channel,
			"content_contentnode": node4}},
		{"3", map[string]string{"content_language": language, "content_localfile": localfile, "content_file": file, "content_channelmetadata": channel3,
			"content_contentnode": "id license_name license_description title coach_content content_id channel_id description sort_order license_owner author kind available lft rght tree_id level lang_id parent_id"}},
		{"2", map[string]string{"content_language": language, "content_localfile": localfile, "content_file": file12, "content_channelmetadata": channel3,
			"content_contentnode": "id title content_id channel_id description sort_order license_owner author kind available stemmed_metaphone lft rght tree_id level lang_id license_description license_name coach_content parent_id"}},
		{"1", map[string]string{"content_language": language, "content_localfile": localfile, "content_file": file12, "content_channelmetadata": channel3,
			"content_contentnode": "id title content_id channel_id description sort_order license_owner author kind available stemmed_metaphone lft rght tree_id level lang_id license_description license_name parent_id"}},
		{"unversioned", map[string]string{"content_language": language, "content_license": "id license_name license_description", "content_file": fileOld,
			"content_channelmetadata": channelV0,
			"content_contentnode":     "id title content_id description sort_order license_owner author kind available stemmed_metaphone lft rght tree_id level lang_id license_id parent_id"}},
		{"v0.4.0-beta3", map[string]string{"content_language": "id lang_code lang_subcode", "content_license": "id license_name license_description",
			"content_file": fileOld, "content_channelmetadata": channelV0,
			"content_contentnode": "id title content_id description sort_order license_owner author kind available stemmed_metaphone lft rght tree_id level license_id parent_id"}},
		{"v0.2.0-beta1", map[string]string{"content_language": "id lang_code lang_subcode", "content_license": "id license_name",
			"content_file": fileOld, "content_channelmetadata": channelV0,
			"content_contentnode": "id title content_id description sort_order license_owner author kind available lft rght tree_id level license_id stemmed_metaphone parent_id"}},
	}
	out := make([]struct {
		version string
		tables  map[string][]string
	}, len(specific))
	for i, s := range specific {
		out[i].version = s.version
		out[i].tables = map[string][]string{}
		for _, m := range []map[string]string{common, s.tables} {
			for t, cols := range m {
				out[i].tables[t] = strings.Fields(cols)
			}
		}
		if s.version == "v0.2.0-beta1" {
			delete(out[i].tables, "content_assessmentmetadata") // it came later
		}
	}
	return out
}()

// schemaOf names the content schema a file's tables fit, "" for none.
func schemaOf(have map[string]map[string]bool) string {
	for _, s := range schemaTables {
		fits := true
		for table, cols := range s.tables {
			for _, c := range cols {
				if !have[table][c] {
					fits = false
				}
			}
		}
		if fits {
			if s.version == "5" && have["content_file"]["included_presets"] && have["content_localfile"]["file_size_bigint"] {
				return "6"
			}
			return s.version
		}
	}
	return ""
}

// kolibriReleaseOf says which Kolibris wrote a schema, for messages.
var kolibriReleaseOf = map[string]string{
	"4": "Kolibri 0.14", "3": "Kolibri 0.13", "2": "Kolibri 0.12", "1": "Kolibri 0.11",
	"unversioned": "Kolibri 0.6 to 0.10", "v0.4.0-beta3": "Kolibri 0.4 and 0.5", "v0.2.0-beta1": "Kolibri 0.2 and 0.3",
}

// MaxSourceNodes bounds the nodes Read takes from one file.
const MaxSourceNodes = 1_000_000

// Read reads the content database at path. A file in an older schema than
// 5, or that is no content database, is refused with BAD_USER_INPUT naming
// what it is. channelID, if not zero, is the channel the file must hold.
func Read(ctx context.Context, path string, channelID models.ID) (*Source, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("kolibri: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	r := &reader{db: db, src: &Source{}}
	if err := r.read(ctx, channelID); err != nil {
		return nil, err
	}
	return r.src, nil
}

type reader struct {
	db  *sql.DB
	src *Source
}

func (r *reader) warn(format string, args ...any) {
	if len(r.src.Warnings) < 100 {
		r.src.Warnings = append(r.src.Warnings, fmt.Sprintf(format, args...))
	}
}

// notContentDB is the error for a file that is not what Kolibri imports.
func notContentDB(why string, args ...any) error {
	return models.Errorf(models.CodeBadUserInput, "not a Kolibri content database: "+why, args...)
}

func (r *reader) read(ctx context.Context, want models.ID) error {
	var ok string
	if err := r.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&ok); err != nil {
		return notContentDB("%v", err)
	}
	if ok != "ok" {
		return notContentDB("SQLite finds it damaged (%s)", ok)
	}
	have, err := r.columns(ctx)
	if err != nil {
		return err
	}
	r.src.Schema = schemaOf(have)
	switch r.src.Schema {
	case "5", "6":
	case "":
		return notContentDB("it lacks tables or columns every content schema has (content_contentnode, content_file, content_channelmetadata, …)")
	default:
		return models.Errorf(models.CodeBadUserInput,
			"the content database is in content schema %q (%s); studio reads schemas 5 and 6 (Kolibri 0.15 and later, and Studio since 2021): import the channel into a newer Kolibri, or publish it again from Studio, and import from there",
			r.src.Schema, kolibriReleaseOf[r.src.Schema])
	}
	if err := r.channel(ctx, want); err != nil {
		return err
	}
	steps := []func(context.Context) error{r.languages, r.nodes, r.files, r.tags, r.prerequisites, r.assessments}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// columns lists the content tables' columns.
func (r *reader) columns(ctx context.Context) (map[string]map[string]bool, error) {
	tables, err := r.strings(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'content\_%' ESCAPE '\'`)
	if err != nil {
		return nil, notContentDB("%v", err)
	}
	have := map[string]map[string]bool{}
	for _, t := range tables {
		cols, err := r.strings(ctx, `SELECT name FROM pragma_table_info(?)`, t)
		if err != nil {
			return nil, fmt.Errorf("kolibri: read columns of %s: %w", t, err)
		}
		have[t] = map[string]bool{}
		for _, c := range cols {
			have[t][c] = true
		}
	}
	return have, nil
}

// strings runs a query of one text column.
func (r *reader) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (r *reader) channel(ctx context.Context, want models.ID) error {
	rows, err := r.db.QueryContext(ctx, `SELECT id, name, description, tagline, author, version, thumbnail, root_id,
		min_schema_version, last_updated FROM content_channelmetadata`)
	if err != nil {
		return fmt.Errorf("kolibri: read channel: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var c ChannelMetadata
		var tagline, author, thumbnail, minSchema, updated sql.NullString
		var version sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Name, &c.Description, &tagline, &author, &version, &thumbnail, &c.RootID, &minSchema, &updated); err != nil {
			return notContentDB("content_channelmetadata: %v", err)
		}
		c.Tagline, c.Thumbnail, c.Version = tagline.String, thumbnail.String, int(version.Int64)
		if n == 1 { // Kolibri reads the first row (read_channel_metadata_from_db_file)
			r.src.Channel, r.src.Author, r.src.MinSchemaVersion, r.src.LastUpdated = c, author.String, minSchema.String, updated.String
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kolibri: read channel: %w", err)
	}
	c := r.src.Channel
	switch {
	case n == 0:
		return notContentDB("content_channelmetadata is empty")
	case n > 1:
		r.warn("content_channelmetadata has %d rows; the first (%s) is read, as Kolibri reads it", n, c.ID)
	}
	id, err := models.ParseID(c.ID)
	if err != nil {
		return notContentDB("the channel's id %q is not 32 hex digits", c.ID)
	}
	if !want.IsZero() && id != want {
		return models.Errorf(models.CodeBadUserInput, "the content database holds channel %s, not %s", id, want)
	}
	if _, err := models.ParseID(c.RootID); err != nil {
		return notContentDB("the channel's root_id %q is not 32 hex digits", c.RootID)
	}
	return nil
}

func (r *reader) languages(ctx context.Context) error {
	rows, err := r.db.QueryContext(ctx, `SELECT id, lang_code, lang_subcode, lang_name, lang_direction FROM content_language ORDER BY rowid`)
	if err != nil {
		return fmt.Errorf("kolibri: read languages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l Language
		var sub, name, dir sql.NullString
		if err := rows.Scan(&l.ID, &l.Code, &sub, &name, &dir); err != nil {
			return notContentDB("content_language: %v", err)
		}
		l.Subcode, l.Name, l.Direction = sub.String, name.String, dir.String
		r.src.Languages = append(r.src.Languages, l)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kolibri: read languages: %w", err)
	}
	return nil
}

// hexID says whether s is a Kolibri id: 32 lowercase hex digits.
var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (r *reader) nodes(ctx context.Context) error {
	var count int
	if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM content_contentnode`).Scan(&count); err != nil {
		return fmt.Errorf("kolibri: count nodes: %w", err)
	}
	if count > MaxSourceNodes {
		return models.Errorf(models.CodeBadUserInput, "the channel has %d nodes; studio imports at most %d", count, MaxSourceNodes)
	}
	rows, err := r.db.QueryContext(ctx, `SELECT id, parent_id, content_id, channel_id, title, description, kind, author,
		license_name, license_description, license_owner, coach_content, available, sort_order, options,
		grade_levels, resource_types, learning_activities, accessibility_labels, categories, learner_needs,
		duration, lang_id, lft, rght, level
		FROM content_contentnode ORDER BY lft, rowid`)
	if err != nil {
		return fmt.Errorf("kolibri: read nodes: %w", err)
	}
	defer rows.Close()
	byID := map[string]*SourceNode{}
	var all []*SourceNode
	for rows.Next() {
		n := &SourceNode{}
		var parent, desc, author, licName, licDesc, owner, options, lang sql.NullString
		var labels [6]sql.NullString
		var sortOrder sql.NullFloat64
		var duration, lft, rght, level sql.NullInt64
		var coach, available sql.NullBool
		if err := rows.Scan(&n.ID, &parent, &n.ContentID, &n.ChannelID, &n.Title, &desc, &n.Kind, &author, &licName, &licDesc,
			&owner, &coach, &available, &sortOrder, &options, &labels[0], &labels[1], &labels[2], &labels[3], &labels[4], &labels[5],
			&duration, &lang, &lft, &rght, &level); err != nil {
			return notContentDB("content_contentnode: %v", err)
		}
		n.ParentID, n.Description, n.Author, n.LicenseName, n.LicenseDescription = parent.String, desc.String, author.String, licName.String, licDesc.String
		n.LicenseOwner, n.CoachContent, n.Available, n.SortOrder, n.Options = owner.String, coach.Bool, available.Bool, sortOrder.Float64, options.String
		n.GradeLevels, n.ResourceTypes, n.LearningActivities = labels[0].String, labels[1].String, labels[2].String
		n.AccessibilityLabels, n.Categories, n.LearnerNeeds = labels[3].String, labels[4].String, labels[5].String
		n.LangID, n.Lft, n.Rght, n.Level = lang.String, int(lft.Int64), int(rght.Int64), int(level.Int64)
		if duration.Valid {
			d := int(duration.Int64)
			n.Duration = &d
		}
		if n.ChannelID != r.src.Channel.ID {
			r.warn("node %s belongs to channel %s, not to this one (%s): left out", n.ID, n.ChannelID, r.src.Channel.ID)
			continue
		}
		if !hexID.MatchString(n.ID) || !hexID.MatchString(n.ContentID) {
			r.warn("node %q (%q) has an id or content_id that is not 32 hex digits: left out, as Kolibri leaves it out", n.ID, n.Title)
			continue
		}
		if _, dup := byID[n.ID]; dup {
			r.warn("node %s is there twice: the second is left out", n.ID)
			continue
		}
		byID[n.ID] = n
		all = append(all, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kolibri: read nodes: %w", err)
	}
	root, ok := byID[r.src.Channel.RootID]
	if !ok {
		return notContentDB("the channel's root node %s is not in content_contentnode", r.src.Channel.RootID)
	}
	// The tree by parent_id, children in lft order; a node not under the
	// root (a broken parent, a cycle) is left out.
	children := map[string][]*SourceNode{}
	for _, n := range all {
		if n != root && n.ParentID != "" {
			children[n.ParentID] = append(children[n.ParentID], n)
		}
	}
	var walk func(n *SourceNode)
	seen := map[string]bool{}
	walk = func(n *SourceNode) {
		seen[n.ID] = true
		r.src.Nodes = append(r.src.Nodes, n)
		n.Children = len(children[n.ID])
		for _, c := range children[n.ID] {
			if !seen[c.ID] {
				walk(c)
			}
		}
	}
	root.ParentID = ""
	walk(root)
	if left := len(all) - len(r.src.Nodes); left > 0 {
		r.warn("%d nodes are not under the channel's root: left out", left)
	}
	return nil
}

// node finds a node of the tree by id.
func (r *reader) index() map[string]*SourceNode {
	m := make(map[string]*SourceNode, len(r.src.Nodes))
	for _, n := range r.src.Nodes {
		m[n.ID] = n
	}
	return m
}

// storageExtension is a file extension Kolibri stores (VALID_STORAGE_FILENAME).
var storageExtension = regexp.MustCompile(`^[0-9a-z]{1,40}$`)

func (r *reader) files(ctx context.Context) error {
	size := "lf.file_size"
	if r.src.Schema == "6" {
		size = "COALESCE(lf.file_size_bigint, lf.file_size)"
	}
	rows, err := r.db.QueryContext(ctx, `SELECT f.id, f.contentnode_id, f.local_file_id, f.preset, f.lang_id, f.supplementary,
		f.thumbnail, f.priority, lf.extension, `+size+`
		FROM content_file AS f JOIN content_localfile AS lf ON lf.id = f.local_file_id ORDER BY f.rowid`)
	if err != nil {
		return fmt.Errorf("kolibri: read files: %w", err)
	}
	defer rows.Close()
	nodes := r.index()
	for rows.Next() {
		var f SourceFile
		var lang sql.NullString
		var supp, thumb sql.NullBool
		var priority, sz sql.NullInt64
		if err := rows.Scan(&f.ID, &f.NodeID, &f.Checksum, &f.Preset, &lang, &supp, &thumb, &priority, &f.Extension, &sz); err != nil {
			return notContentDB("content_file: %v", err)
		}
		f.LangID, f.Supplementary, f.Thumbnail, f.Priority = lang.String, supp.Bool, thumb.Bool, int(priority.Int64)
		f.Size = -1
		if sz.Valid && sz.Int64 >= 0 {
			f.Size = sz.Int64
		}
		n := nodes[f.NodeID]
		switch {
		case n == nil:
			continue // a file of a node left out
		case !hexID.MatchString(f.ID) || !hexID.MatchString(f.Checksum) || !storageExtension.MatchString(f.Extension):
			r.warn("file %q (%s.%s) of node %s has a malformed id, checksum or extension: left out, as Kolibri leaves it out", f.ID, f.Checksum, f.Extension, n.ID)
			continue
		}
		n.Files = append(n.Files, f)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kolibri: read files: %w", err)
	}
	return nil
}

func (r *reader) tags(ctx context.Context) error {
	rows, err := r.db.QueryContext(ctx, `SELECT nt.contentnode_id, t.tag_name FROM content_contentnode_tags AS nt
		JOIN content_contenttag AS t ON t.id = nt.contenttag_id ORDER BY nt.id`)
	if err != nil {
		return fmt.Errorf("kolibri: read tags: %w", err)
	}
	defer rows.Close()
	nodes := r.index()
	for rows.Next() {
		var node, tag string
		if err := rows.Scan(&node, &tag); err != nil {
			return notContentDB("content_contentnode_tags: %v", err)
		}
		if n := nodes[node]; n != nil && !slices.Contains(n.Tags, tag) {
			n.Tags = append(n.Tags, tag)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kolibri: read tags: %w", err)
	}
	return nil
}

func (r *reader) prerequisites(ctx context.Context) error {
	rows, err := r.db.QueryContext(ctx, `SELECT from_contentnode_id, to_contentnode_id FROM content_contentnode_has_prerequisite ORDER BY id`)
	if err != nil {
		return fmt.Errorf("kolibri: read prerequisites: %w", err)
	}
	defer rows.Close()
	nodes := r.index()
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			return notContentDB("content_contentnode_has_prerequisite: %v", err)
		}
		if n := nodes[from]; n != nil && nodes[to] != nil && from != to && !slices.Contains(n.Prerequisites, to) {
			n.Prerequisites = append(n.Prerequisites, to)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kolibri: read prerequisites: %w", err)
	}
	return nil
}

func (r *reader) assessments(ctx context.Context) error {
	rows, err := r.db.QueryContext(ctx, `SELECT id, contentnode_id, assessment_item_ids, number_of_assessments, mastery_model,
		randomize, is_manipulable FROM content_assessmentmetadata ORDER BY rowid`)
	if err != nil {
		return fmt.Errorf("kolibri: read assessment metadata: %w", err)
	}
	defer rows.Close()
	nodes := r.index()
	for rows.Next() {
		var a SourceAssessment
		var node string
		var ids, mastery sql.NullString
		var count sql.NullInt64
		var randomize, manipulable sql.NullBool
		if err := rows.Scan(&a.ID, &node, &ids, &count, &mastery, &randomize, &manipulable); err != nil {
			return notContentDB("content_assessmentmetadata: %v", err)
		}
		n := nodes[node]
		if n == nil || n.Assessment != nil {
			continue
		}
		a.Count, a.Randomize, a.Manipulable = int(count.Int64), randomize.Bool, manipulable.Bool
		if err := json.Unmarshal([]byte(ids.String), &a.ItemIDs); err != nil {
			r.warn("exercise %s: assessment_item_ids is not a JSON list of ids: its questions are read from its archive", n.ID)
			a.ItemIDs = nil
		}
		if err := json.Unmarshal([]byte(mastery.String), &a.MasteryModel); err != nil || a.MasteryModel == nil {
			r.warn("exercise %s: mastery_model is not a JSON object: left out", n.ID)
			a.MasteryModel = map[string]any{}
		}
		n.Assessment = &a
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kolibri: read assessment metadata: %w", err)
	}
	return nil
}
