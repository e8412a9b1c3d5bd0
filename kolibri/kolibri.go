// Package kolibri writes the content database that Kolibri imports: one
// SQLite file a channel, in Kolibri's content schema 5 with schema 6's two
// additive columns (../shared/reference/kolibri-import.md §1–2). It knows
// the file's tables; which nodes and files go in is the publisher's call.
package kolibri

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

//go:embed schema.sql
var schema string

// MinSchemaVersion is written in content_channelmetadata; it picks how
// Kolibri imports the file. Studio writes "1", which Kolibri (0.15 and
// later) reads as "copy, then set every resource's learning_activities from
// its kind", so a video's "Reflect" or an exercise's "Create" is lost. "5",
// this file's schema, is a plain copy that keeps the labels as written.
// Never a version Kolibri does not list: it fails on one it does not know.
const MinSchemaVersion = "5"

// Writer fills one content database in one transaction.
type Writer struct {
	db *sql.DB
	tx *sql.Tx
}

// Create makes a new content database at path (which must not exist) and
// starts filling it. Call Close to finish it, or Abort to give up.
func Create(ctx context.Context, path string) (*Writer, error) {
	// No syncs: the file is a scratch copy until it is checked and stored.
	// A page cache of up to 128 MB (the default is 2 MB) keeps the indexes
	// in memory: rows arrive in random id order, and without it a
	// 100,000-node channel cost 1.7× as much a node as a 10,000-node one.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(DELETE)&_pragma=synchronous(OFF)&_pragma=cache_size(-131072)")
	if err != nil {
		return nil, fmt.Errorf("kolibri: create %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("kolibri: schema: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("kolibri: begin: %w", err)
	}
	return &Writer{db: db, tx: tx}, nil
}

// Close commits what was written and checks the file: SQLite's integrity
// and foreign-key checks must both come back clean.
func (w *Writer) Close(ctx context.Context) error {
	defer w.db.Close()
	if err := w.tx.Commit(); err != nil {
		return fmt.Errorf("kolibri: commit: %w", err)
	}
	var ok string
	if err := w.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil {
		return fmt.Errorf("kolibri: integrity check: %w", err)
	}
	if ok != "ok" {
		return fmt.Errorf("kolibri: integrity check: %s", ok)
	}
	rows, err := w.db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("kolibri: foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		_ = rows.Scan(&table, &rowid, &parent, &fkid)
		return fmt.Errorf("kolibri: foreign key check: a row of %s refers to a missing %s", table, parent)
	}
	return rows.Err()
}

// Abort gives up; the caller removes the file.
func (w *Writer) Abort() {
	_ = w.tx.Rollback()
	_ = w.db.Close()
}

func (w *Writer) exec(ctx context.Context, table string, cols []string, vals ...any) error {
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	if _, err := w.tx.ExecContext(ctx, q, vals...); err != nil {
		return fmt.Errorf("kolibri: insert into %s: %w", table, err)
	}
	return nil
}

// Language is a content_language row.
type Language struct {
	ID, Code, Subcode, Name, Direction string
}

// Language writes a content_language row.
func (w *Writer) Language(ctx context.Context, l Language) error {
	return w.exec(ctx, "content_language", []string{"id", "lang_code", "lang_subcode", "lang_name", "lang_direction"},
		l.ID, l.Code, nullString(l.Subcode), l.Name, l.Direction)
}

// Node is a content_contentnode row. Lft, Rght, Level come from Number.
type Node struct {
	ID, ParentID, ContentID, ChannelID string
	Title, Description, Kind, Author   string
	LicenseName, LicenseDescription    string
	LicenseOwner                       string
	CoachContent, Available            bool
	SortOrder                          float64
	Options                            string // a JSON object
	// Label ids, comma-separated, "" for none.
	GradeLevels, ResourceTypes, LearningActivities, AccessibilityLabels, Categories, LearnerNeeds string
	Duration                                                                                      *int
	LangID                                                                                        string
	Lft, Rght, Level                                                                              int
}

// Node writes a content_contentnode row, in the one tree (tree_id 1).
func (w *Writer) Node(ctx context.Context, n Node) error {
	return w.exec(ctx, "content_contentnode", []string{"id", "parent_id", "content_id", "channel_id", "title",
		"description", "kind", "author", "license_name", "license_description", "license_owner", "coach_content",
		"available", "sort_order", "options", "grade_levels", "resource_types", "learning_activities",
		"accessibility_labels", "categories", "learner_needs", "duration", "lang_id", "lft", "rght", "tree_id", "level"},
		n.ID, nullString(n.ParentID), n.ContentID, n.ChannelID, n.Title, n.Description, n.Kind, n.Author,
		nullString(n.LicenseName), nullString(n.LicenseDescription), n.LicenseOwner, n.CoachContent, n.Available,
		n.SortOrder, n.Options, nullString(n.GradeLevels), nullString(n.ResourceTypes), nullString(n.LearningActivities),
		nullString(n.AccessibilityLabels), nullString(n.Categories), nullString(n.LearnerNeeds), n.Duration,
		nullString(n.LangID), n.Lft, n.Rght, 1, n.Level)
}

// LocalFile is a content_localfile row: a blob, by its md5.
type LocalFile struct {
	Checksum, Extension string
	Size                int64
}

// LocalFile writes a content_localfile row, once a checksum: files share blobs.
func (w *Writer) LocalFile(ctx context.Context, f LocalFile) error {
	var small any // file_size is 32-bit; larger sizes live in file_size_bigint only
	if f.Size < 1<<31 {
		small = f.Size
	}
	_, err := w.tx.ExecContext(ctx, `INSERT INTO content_localfile (id, extension, available, file_size, file_size_bigint)
		VALUES (?, ?, false, ?, ?) ON CONFLICT (id) DO NOTHING`, f.Checksum, f.Extension, small, f.Size)
	if err != nil {
		return fmt.Errorf("kolibri: insert into content_localfile: %w", err)
	}
	return nil
}

// File is a content_file row: a node's use of a local file.
type File struct {
	ID, NodeID, Checksum, Preset, LangID string
	Supplementary, Thumbnail             bool
	Priority                             int
	IncludedPresets                      *int64 // nil for supplementary files
}

// File writes a content_file row.
func (w *Writer) File(ctx context.Context, f File) error {
	return w.exec(ctx, "content_file", []string{"id", "contentnode_id", "local_file_id", "preset", "supplementary",
		"thumbnail", "priority", "lang_id", "included_presets"},
		f.ID, f.NodeID, f.Checksum, f.Preset, f.Supplementary, f.Thumbnail, f.Priority, nullString(f.LangID), f.IncludedPresets)
}

// Tag links a node to a tag, making the tag on first use.
func (w *Writer) Tag(ctx context.Context, nodeID, tagID, name string) error {
	if _, err := w.tx.ExecContext(ctx, `INSERT INTO content_contenttag (id, tag_name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, tagID, name); err != nil {
		return fmt.Errorf("kolibri: insert into content_contenttag: %w", err)
	}
	return w.exec(ctx, "content_contentnode_tags", []string{"contentnode_id", "contenttag_id"}, nodeID, tagID)
}

// Prerequisite says the learner should finish prerequisite before node.
func (w *Writer) Prerequisite(ctx context.Context, node, prerequisite string) error {
	return w.exec(ctx, "content_contentnode_has_prerequisite", []string{"from_contentnode_id", "to_contentnode_id"}, node, prerequisite)
}

// AssessmentMetadata describes an exercise's questions and mastery.
type AssessmentMetadata struct {
	ID, NodeID    string
	AssessmentIDs string // a JSON list
	Count         int
	MasteryModel  string // a JSON object {"type", "m", "n"}
	Randomize     bool
}

// AssessmentMetadata writes an exercise's content_assessmentmetadata row.
func (w *Writer) AssessmentMetadata(ctx context.Context, m AssessmentMetadata) error {
	return w.exec(ctx, "content_assessmentmetadata", []string{"id", "contentnode_id", "assessment_item_ids",
		"number_of_assessments", "mastery_model", "randomize", "is_manipulable"},
		m.ID, m.NodeID, m.AssessmentIDs, m.Count, m.MasteryModel, m.Randomize, true)
}

// ChannelMetadata is the one content_channelmetadata row.
type ChannelMetadata struct {
	ID, Name, Description, Tagline, Thumbnail, RootID string
	Version                                           int
}

// ChannelMetadata writes the content_channelmetadata row.
func (w *Writer) ChannelMetadata(ctx context.Context, c ChannelMetadata) error {
	return w.exec(ctx, "content_channelmetadata", []string{"id", "name", "description", "tagline", "author",
		"version", "thumbnail", "min_schema_version", "root_id"},
		c.ID, c.Name, c.Description, nullString(c.Tagline), "", c.Version, c.Thumbnail, MinSchemaVersion, c.RootID)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
