package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// DiskUsage is what counts against a user's quota: the sizes of the
// distinct blobs in the main trees of the channels they edit, of their
// uploads not attached to anything yet, and of the files they are
// uploading, or uploaded lately, through upload URLs (keptUploads). A blob
// counts once, however often it is used.
func (d *DB) DiskUsage(ctx context.Context, userID models.ID) (int64, error) {
	kept, keptArgs := keptUploads(time.Now())
	var used int64
	err := d.sql.NewRaw(`SELECT COALESCE(sum(size), 0) FROM (
		SELECT checksum, max(size) AS size FROM (
			SELECT f.checksum, f.size FROM files AS f
			LEFT JOIN assessment_items AS ai ON ai.id = f.assessment_item_id
			LEFT JOIN content_nodes AS cn ON cn.id = COALESCE(f.node_id, ai.node_id)
			LEFT JOIN channels AS c ON c.id = cn.channel_id AND c.root_id = cn.root_id
			WHERE (c.id IS NOT NULL AND EXISTS (
					SELECT 1 FROM channel_members AS m WHERE m.channel_id = c.id AND m.user_id = ? AND m.role = 'editor'))
				OR (f.node_id IS NULL AND f.assessment_item_id IS NULL AND f.uploaded_by_id = ?)
			UNION ALL
			SELECT uu.checksum, uu.size FROM upload_urls AS uu WHERE uu.user_id = ? AND `+kept+`
		) AS counted
		GROUP BY checksum
	) AS used`, append([]any{userID, userID, userID}, keptArgs...)...).Scan(ctx, &used)
	if err != nil {
		return 0, fmt.Errorf("db: disk usage: %w", err)
	}
	return used, nil
}

// countedChecksums says which of checksums already count for the user (see
// DiskUsage): a file of theirs, or an upload URL's (keptUploads).
func (d *DB) countedChecksums(ctx context.Context, tx bun.IDB, userID models.ID, checksums []string) (map[string]bool, error) {
	distinct := slices.Compact(slices.Sorted(slices.Values(checksums)))
	// The checksums asked about are a list of values, each checked with
	// EXISTS, which stops at the first file that counts: a blob named by
	// thousands of files costs no more than one named once.
	values := strings.TrimSuffix(strings.Repeat("SELECT CAST(? AS text) AS c UNION ALL ", len(distinct)), " UNION ALL ")
	args := make([]any, 0, len(distinct)+3)
	for _, c := range distinct {
		args = append(args, c)
	}
	kept, keptArgs := keptUploads(time.Now())
	args = append(append(args, userID, userID, userID), keptArgs...)
	var counted []string
	err := tx.NewRaw(`SELECT v.c FROM (`+values+`) AS v
		WHERE EXISTS (SELECT 1 FROM files AS f WHERE f.checksum = v.c AND f.uploaded_by_id = ?)
		OR EXISTS (SELECT 1 FROM files AS f
			LEFT JOIN assessment_items AS ai ON ai.id = f.assessment_item_id
			JOIN content_nodes AS cn ON cn.id = COALESCE(f.node_id, ai.node_id)
			JOIN channel_members AS m ON m.channel_id = cn.channel_id AND m.user_id = ? AND m.role = 'editor'
			WHERE f.checksum = v.c)
		OR EXISTS (SELECT 1 FROM upload_urls AS uu WHERE uu.checksum = v.c AND uu.user_id = ? AND `+kept+`)`, args...).Scan(ctx, &counted)
	out := make(map[string]bool, len(counted))
	for _, c := range counted {
		out[c] = true
	}
	return out, err
}

// checkQuota refuses files that would take u over their storage quota,
// with QUOTA_EXCEEDED (admins have none). A blob counts once: files whose
// checksum already counts for u, or that repeat one, add nothing.
func (d *DB) checkQuota(ctx context.Context, tx bun.IDB, u *models.User, files []*models.File) error {
	if u.IsAdmin || len(files) == 0 {
		return nil
	}
	checksums := make([]string, len(files))
	for i, f := range files {
		checksums[i] = f.Checksum
	}
	counted, err := d.countedChecksums(ctx, tx, u.ID, checksums)
	if err != nil {
		return fmt.Errorf("db: quota: %w", err)
	}
	var more int64
	for _, f := range files {
		if !counted[f.Checksum] {
			counted[f.Checksum] = true
			more += f.Size
		}
	}
	if more == 0 {
		return nil
	}
	used, err := d.DiskUsage(ctx, u.ID)
	if err != nil {
		return err
	}
	// The quota as it is now, not as the caller's (remembered) user says.
	var quota int64
	if err := tx.NewSelect().Model((*models.User)(nil)).Column("disk_space").Where("id = ?", u.ID).Scan(ctx, &quota); err != nil {
		return fmt.Errorf("db: quota: %w", err)
	}
	if used+more > quota {
		if len(files) == 1 {
			return models.Errorf(models.CodeQuotaExceeded, "this file (%d bytes) would take you over your storage quota: %d of %d bytes are used; delete files or ask an admin for more space", more, used, quota)
		}
		return models.Errorf(models.CodeQuotaExceeded, "these files (%d bytes) would take you over your storage quota: %d of %d bytes are used; delete files or ask an admin for more space", more, used, quota)
	}
	return nil
}

// AddFile records an uploaded file, attached to a node, to a question, or
// to nothing yet, as u. The quota is checked in the same transaction: a
// file that would take u over it is refused with QUOTA_EXCEEDED. A
// thumbnail replaces the node's previous one. store keeps the bytes; it runs
// once the file is accepted, before the transaction commits, so that a
// refused file stores nothing and a recorded one has its bytes.
func (d *DB) AddFile(ctx context.Context, u *models.User, f *models.File, store func() error) error {
	if u == nil {
		return models.Errorf(models.CodeUnauthenticated, "sign in to upload files: send Authorization: Bearer <token> (the login mutation or `studio token create` gives one)")
	}
	_, err := d.write(ctx, u, true, func(ctx context.Context, a *applier) (*Result, error) {
		a.outcomes = make([]outcome, 1)
		if err := a.addFile(ctx, f); err != nil {
			return nil, err
		}
		if err := d.lockBlob(ctx, a.tx, f.Checksum); err != nil { // until the row commits: see lockBlob
			return nil, err
		}
		if err := store(); err != nil {
			return nil, err
		}
		c := Change{Type: models.ChangeCreated, Table: TableFile, Key: f.ID, Obj: map[string]any{
			"checksum": f.Checksum, "file_size": f.Size, "file_format": f.Extension, "preset": f.PresetID,
			"contentnode": f.NodeID, "assessment_item": f.AssessmentItemID, "language": f.LanguageCode, "duration": f.Duration}}
		if ch := a.outcomes[0].channel; !ch.IsZero() {
			a.log = append(append(a.log, a.logEntry(c, ch)), a.outcomes[0].generated...)
			a.written[ch] = true
		}
		return &Result{}, nil
	})
	return err
}

func (a *applier) addFile(ctx context.Context, f *models.File) error {
	var n *models.ContentNode
	var err error
	switch {
	case f.NodeID != nil && f.AssessmentItemID != nil:
		return badField("nodeId", "a file belongs to a node or to a question, not both")
	case f.NodeID != nil:
		if n, err = a.editableNode(ctx, *f.NodeID, nil); err != nil {
			return unwrapDisallowed(err)
		}
	case f.AssessmentItemID != nil:
		var item models.AssessmentItem
		if err := a.tx.NewSelect().Model(&item).Where("ai.id = ?", *f.AssessmentItemID).Scan(ctx); err != nil {
			return notFound("question", *f.AssessmentItemID)
		}
		if n, err = a.editableNode(ctx, item.NodeID, nil); err != nil {
			return unwrapDisallowed(err)
		}
	}
	p, _ := models.PresetByID(f.PresetID)
	if n != nil && f.NodeID != nil && p.Kind != "" && p.Kind != n.Kind {
		return badField("preset", "preset %s is for %s nodes, and %s is a %s", p.ID, p.Kind, n.ID, n.Kind)
	}
	if err := a.d.checkQuota(ctx, a.tx, a.u, []*models.File{f}); err != nil {
		return err
	}
	if n != nil && f.NodeID != nil && p.Thumbnail {
		if _, err := a.tx.NewDelete().Model((*models.File)(nil)).Where("node_id = ? AND preset = ?", n.ID, p.ID).Exec(ctx); err != nil {
			return fmt.Errorf("db: replace thumbnail: %w", err)
		}
	}
	f.UploadedByID = &a.u.ID
	f.CreatedAt, f.ModifiedAt = a.now, a.now
	if _, err := a.tx.NewInsert().Model(f).Exec(ctx); err != nil {
		return fmt.Errorf("db: add file: %w", err)
	}
	if n == nil {
		return nil
	}
	a.outcomes[0].channel = n.ChannelID
	wasComplete := n.Complete
	if err := a.filesChanged(ctx, n, p); err != nil {
		return err
	}
	if !wasComplete && n.Complete {
		a.generate(0, TableContentNode, n.ID, map[string]any{"complete": true})
	}
	return nil
}

// unwrapDisallowed turns a refusal into the plain error a typed mutation reports.
func unwrapDisallowed(err error) error {
	var dis errDisallowed
	if errors.As(err, &dis) {
		return dis.err
	}
	return err
}

// ChecksumsInUse says which of checksums some file row still names, or an
// upload URL keeps (keptUploads): a chef names its files only after it has
// uploaded them all.
func (d *DB) ChecksumsInUse(ctx context.Context, checksums []string) (map[string]bool, error) {
	kept, keptArgs := keptUploads(time.Now())
	var used []string
	err := d.sql.NewRaw(`SELECT DISTINCT f.checksum FROM files AS f WHERE f.checksum IN (?)
		UNION SELECT uu.checksum FROM upload_urls AS uu WHERE uu.checksum IN (?) AND `+kept,
		append([]any{bun.List(checksums), bun.List(checksums)}, keptArgs...)...).Scan(ctx, &used)
	if err != nil {
		return nil, fmt.Errorf("db: checksums in use: %w", err)
	}
	out := make(map[string]bool, len(used))
	for _, c := range used {
		out[c] = true
	}
	return out, nil
}

// FilesByID loads files in the order asked.
func (d *DB) FilesByID(ctx context.Context, ids []models.ID) ([]*models.File, error) {
	var fs []*models.File
	if err := d.sql.NewSelect().Model(&fs).Where("f.id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: files: %w", err)
	}
	byID := make(map[models.ID]*models.File, len(fs))
	for _, f := range fs {
		byID[f.ID] = f
	}
	out := make([]*models.File, 0, len(ids))
	for _, id := range ids {
		if f, ok := byID[id]; ok {
			out = append(out, f)
		}
	}
	return out, nil
}
