// Package kolibritest makes content databases and compares them, for tests
// and benchmarks of importing published channels.
package kolibritest

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"studio/kolibri"
	"studio/models"
)

// Tables are the content tables Compare compares, with the columns each
// is ordered by.
var Tables = []string{"content_contentnode", "content_file", "content_localfile", "content_assessmentmetadata",
	"content_contenttag", "content_contentnode_tags", "content_contentnode_has_prerequisite", "content_contentnode_related",
	"content_language", "content_channelmetadata"}

// Ignored are the columns Compare leaves out: what a new publish changes
// by design (the version, the time).
var Ignored = map[string][]string{"content_channelmetadata": {"version", "last_updated"}}

// Compare compares two content databases table by table, every row and
// column (ids included) but Ignored's, and lists each difference.
func Compare(ctx context.Context, a, b string) ([]string, error) {
	var diffs []string
	for _, table := range Tables {
		ra, err := rows(ctx, a, table)
		if err != nil {
			return nil, err
		}
		rb, err := rows(ctx, b, table)
		if err != nil {
			return nil, err
		}
		onlyA, onlyB := minus(ra, rb), minus(rb, ra)
		for _, r := range onlyA {
			diffs = append(diffs, fmt.Sprintf("%s: only in the first: %s", table, r))
		}
		for _, r := range onlyB {
			diffs = append(diffs, fmt.Sprintf("%s: only in the second: %s", table, r))
		}
	}
	return diffs, nil
}

// rows reads a table's rows as text, "col=value" joined, sorted.
func rows(ctx context.Context, path, table string) ([]string, error) {
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	rs, err := d.QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", path, table, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, c := range Ignored[table] {
		skip[c] = true
	}
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		var parts []string
		for i, c := range cols {
			if skip[c] {
				continue
			}
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts = append(parts, fmt.Sprintf("%s=%v", c, v))
		}
		out = append(out, strings.Join(parts, " "))
	}
	sort.Strings(out)
	return out, rs.Err()
}

// minus is what a has that b has not, counting duplicates.
func minus(a, b []string) []string {
	count := map[string]int{}
	for _, r := range b {
		count[r]++
	}
	var out []string
	for _, r := range a {
		if count[r] > 0 {
			count[r]--
			continue
		}
		out = append(out, r)
	}
	return out
}

// Channel is a synthetic published channel in a content folder.
type Channel struct {
	ID   models.ID
	Dir  string // the content folder: databases/, storage/
	Path string // databases/<id>.sqlite3
	// Files are the stored files' names, "<md5>.<ext>".
	Files []string
	Nodes int
}

// Options shape a synthetic channel.
type Options struct {
	Topics, Leaves int // Topics topics of Leaves documents each
	FileSize       int // bytes of each document (at least 16)
	Version        int
}

// Write makes a channel of documents in dir (a content folder), each
// document with a file of its own, as a publish writes it.
func Write(ctx context.Context, dir string, opts Options) (*Channel, error) {
	ch := &Channel{ID: models.NewID(), Dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "databases"), 0o755); err != nil {
		return nil, err
	}
	ch.Path = filepath.Join(dir, "databases", ch.ID.String()+".sqlite3")
	w, err := kolibri.Create(ctx, ch.Path)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Channel, error) {
		w.Abort()
		return nil, err
	}
	if err := w.Language(ctx, kolibri.Language{ID: "en", Code: "en", Name: "English", Direction: "ltr"}); err != nil {
		return fail(err)
	}
	root := ch.ID.String()
	kids := map[string][]string{}
	type leaf struct{ id, parent, title string }
	var topics []leaf
	var docs []leaf
	for t := range opts.Topics {
		tid := models.NewID().String()
		topics = append(topics, leaf{tid, root, fmt.Sprintf("Topic %d", t+1)})
		kids[root] = append(kids[root], tid)
		for l := range opts.Leaves {
			did := models.NewID().String()
			docs = append(docs, leaf{did, tid, fmt.Sprintf("Document %d.%d", t+1, l+1)})
			kids[tid] = append(kids[tid], did)
		}
	}
	nums := kolibri.Number(root, kids)
	node := func(id, parent, title, kind string, order float64) kolibri.Node {
		n := nums[id]
		return kolibri.Node{ID: id, ParentID: parent, ContentID: id, ChannelID: root, Title: title, Kind: kind, Available: true,
			SortOrder: order, Options: "{}", LangID: "en", Lft: n.Lft, Rght: n.Rght, Level: n.Level,
			LicenseName: "CC BY", LicenseOwner: "Tests"}
	}
	r := node(root, "", "Synthetic", models.KindTopic, 1)
	r.LangID, r.LicenseName, r.LicenseOwner = "", "", ""
	if err := w.Node(ctx, r); err != nil {
		return fail(err)
	}
	order := map[string]float64{}
	for _, t := range topics {
		order[t.parent]++
		n := node(t.id, t.parent, t.title, models.KindTopic, order[t.parent])
		n.LicenseName, n.LicenseOwner = "", ""
		if err := w.Node(ctx, n); err != nil {
			return fail(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		return fail(err)
	}
	size := max(opts.FileSize, 16)
	for _, d := range docs {
		order[d.parent]++
		if err := w.Node(ctx, node(d.id, d.parent, d.title, models.KindDocument, order[d.parent])); err != nil {
			return fail(err)
		}
		data := []byte(strings.Repeat(d.id, size/32+1)[:size])
		sum := md5.Sum(data)
		checksum := hex.EncodeToString(sum[:])
		path := filepath.Join(dir, "storage", checksum[:1], checksum[1:2], checksum+".pdf")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fail(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fail(err)
		}
		ch.Files = append(ch.Files, checksum+".pdf")
		if err := w.LocalFile(ctx, kolibri.LocalFile{Checksum: checksum, Extension: "pdf", Size: int64(size)}); err != nil {
			return fail(err)
		}
		bit := int64(1) << 6 // document's bit in RENDERABLE_PRESETS_ORDER
		if err := w.File(ctx, kolibri.File{ID: models.NewID().String(), NodeID: d.id, Checksum: checksum, Preset: "document",
			Priority: 2, IncludedPresets: &bit}); err != nil {
			return fail(err)
		}
	}
	if err := w.ChannelMetadata(ctx, kolibri.ChannelMetadata{ID: root, Name: "Synthetic", Description: "Made by kolibritest",
		RootID: root, Version: max(opts.Version, 1)}); err != nil {
		return fail(err)
	}
	if err := w.Close(ctx); err != nil {
		return nil, err
	}
	ch.Nodes = 1 + len(topics) + len(docs)
	return ch, nil
}
