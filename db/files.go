package db

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"studio/models"
)

// Files come into being by upload; through changes they are moved between
// nodes and questions, described (language, preset, duration) and deleted.

func isFileWrite(c Change) bool {
	return c.Table == TableFile && (c.Type == models.ChangeUpdated || c.Type == models.ChangeDeleted)
}

// fileBatch is what a run of file changes reads together: the files, the
// questions they (or the changes) name, and the nodes, under their locks.
type fileBatch struct {
	files map[models.ID]*models.File
	items map[models.ID]*models.AssessmentItem
}

// writeFiles applies a run of UPDATED and DELETED file changes, each of a
// different file: the files, their questions and nodes are read together,
// each change is checked on its own, and the good ones are written together
// (an update, a delete), with their nodes' completeness in one go.
func (a *applier) writeFiles(ctx context.Context, cs []Change) []error {
	errs := make([]error, len(cs))
	var ids []models.ID
	for _, c := range cs {
		if id, err := keyID(c.Key); err == nil {
			ids = append(ids, id)
		}
	}
	b, err := a.loadFileBatch(ctx, cs, ids)
	if err != nil {
		a.fatal = err
		return errs
	}
	var updates []*models.File
	var deletes []models.ID
	var changed []contentChange
	for k, c := range cs {
		var err error
		switch c.Type {
		case models.ChangeUpdated:
			var f *models.File
			f, err = a.updateFile(ctx, k, c, b, &changed)
			if f != nil {
				updates = append(updates, f)
			}
		default:
			var f *models.File
			f, err = a.deleteFile(ctx, k, c, b, &changed)
			if f != nil {
				deletes = append(deletes, f.ID)
			}
		}
		if err != nil {
			errs[k] = a.classify(err)
			if a.fatal != nil {
				return errs
			}
		}
	}
	err = a.saveFiles(ctx, updates, deletes)
	if err == nil {
		err = a.contentChangedAll(ctx, changed)
	}
	if err != nil {
		for k := range errs {
			if errs[k] == nil {
				errs[k] = a.classify(err)
			}
		}
	}
	return errs
}

// loadFileBatch locks the channels of the nodes that the files of ids
// belong to (directly or through their questions) and that the changes take
// them to, then reads the files, the questions and the nodes under the
// locks: a file read before its channel's lock may be moved or deleted by
// another editor meanwhile. Four statements and the locks; more only when
// a node went to another channel before its lock was taken.
func (a *applier) loadFileBatch(ctx context.Context, cs []Change, ids []models.ID) (*fileBatch, error) {
	if len(ids) == 0 {
		return &fileBatch{files: map[models.ID]*models.File{}, items: map[models.ID]*models.AssessmentItem{}}, nil
	}
	var toNodes, toItems []models.ID
	for _, c := range cs {
		if c.Type != models.ChangeUpdated {
			continue
		}
		if id, err := idValue("contentnode", c.Mods["contentnode"]); err == nil {
			toNodes = append(toNodes, id)
		}
		if id, err := idValue("assessment_item", c.Mods["assessment_item"]); err == nil {
			toItems = append(toItems, id)
		}
	}
	var channels []models.ID
	err := a.tx.NewRaw(`SELECT DISTINCT n.channel_id FROM content_nodes AS n
		WHERE n.id IN (SELECT COALESCE(f.node_id, ai.node_id) FROM files AS f
			LEFT JOIN assessment_items AS ai ON ai.id = f.assessment_item_id WHERE f.id IN (?))
		OR n.id IN (?) OR n.id IN (SELECT node_id FROM assessment_items WHERE id IN (?))`,
		list(ids), list(toNodes), list(toItems)).Scan(ctx, &channels)
	if err != nil {
		return nil, fmt.Errorf("db: files' channels: %w", err)
	}
	tried := map[models.ID]bool{}
	for {
		var todo []models.ID
		for _, id := range channels {
			if !tried[id] {
				tried[id] = true
				todo = append(todo, id)
			}
		}
		if err := a.lockChannelIDs(ctx, todo); err != nil {
			return nil, err
		}
		b, nodeIDs, err := a.readFileBatch(ctx, ids, toNodes, toItems)
		if err != nil {
			return nil, err
		}
		if err := a.loadNodes(ctx, nodeIDs); err != nil {
			return nil, err
		}
		channels = channels[:0]
		for _, id := range nodeIDs {
			if n, ok := a.nodes[id]; ok && !tried[n.ChannelID] {
				channels = append(channels, n.ChannelID)
			}
		}
		if len(channels) == 0 {
			return b, nil
		}
	}
}

// readFileBatch reads the files of ids and the questions they or toItems
// name; it returns them with the ids of their nodes and toNodes.
func (a *applier) readFileBatch(ctx context.Context, ids, toNodes, toItems []models.ID) (*fileBatch, []models.ID, error) {
	b := &fileBatch{files: map[models.ID]*models.File{}, items: map[models.ID]*models.AssessmentItem{}}
	var fs []*models.File
	if err := a.tx.NewSelect().Model(&fs).Where("f.id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("db: load files: %w", err)
	}
	itemIDs := append([]models.ID(nil), toItems...)
	nodeIDs := append([]models.ID(nil), toNodes...)
	for _, f := range fs {
		b.files[f.ID] = f
		switch {
		case f.NodeID != nil:
			nodeIDs = append(nodeIDs, *f.NodeID)
		case f.AssessmentItemID != nil:
			itemIDs = append(itemIDs, *f.AssessmentItemID)
		}
	}
	if len(itemIDs) > 0 {
		var items []*models.AssessmentItem
		if err := a.tx.NewSelect().Model(&items).Where("ai.id IN (?)", list(itemIDs)).Scan(ctx); err != nil {
			return nil, nil, fmt.Errorf("db: files' questions: %w", err)
		}
		for _, it := range items {
			b.items[it.ID] = it
			nodeIDs = append(nodeIDs, it.NodeID)
		}
	}
	return b, nodeIDs, nil
}

// fileFor returns a copy of a file (to change) and the node it belongs to
// (directly, or through its question), with the node's channel locked for
// editing, for the k-th change of the group.
func (a *applier) fileFor(ctx context.Context, k int, c Change, b *fileBatch) (*models.File, *models.ContentNode, error) {
	id, err := keyID(c.Key)
	if err != nil {
		return nil, nil, err
	}
	found, ok := b.files[id]
	if !ok {
		return nil, nil, notFound("file", id)
	}
	f := new(models.File)
	*f = *found
	nodeID := f.NodeID
	if nodeID == nil && f.AssessmentItemID != nil {
		it, ok := b.items[*f.AssessmentItemID]
		if !ok {
			return nil, nil, notFound("question", *f.AssessmentItemID)
		}
		nodeID = &it.NodeID
	}
	if nodeID == nil {
		// An upload not attached yet: only its uploader may change it.
		if f.UploadedByID == nil || *f.UploadedByID != a.u.ID {
			return nil, nil, notFound("file", id)
		}
		return f, nil, nil
	}
	n, err := a.editableNode(ctx, *nodeID, c.ChannelID)
	if err != nil {
		return nil, nil, err
	}
	a.outcomes[k].channel = n.ChannelID
	return f, n, nil
}

// updateFile checks an UPDATED file change (the k-th of its group): mods
// may set contentnode, assessment_item (attaching the file there), preset,
// language and duration. It returns the file to write and adds the nodes
// whose files change to changed.
func (a *applier) updateFile(ctx context.Context, k int, c Change, b *fileBatch, changed *[]contentChange) (*models.File, error) {
	f, from, err := a.fileFor(ctx, k, c, b)
	if err != nil {
		return nil, err
	}
	var to *models.ContentNode
	for key, v := range c.Mods {
		switch key {
		case "contentnode":
			id, err := idValue(key, v)
			if err != nil {
				return nil, err
			}
			if to, err = a.editableNode(ctx, id, nil); err != nil {
				return nil, err
			}
			f.NodeID, f.AssessmentItemID = &to.ID, nil
		case "assessment_item":
			id, err := idValue(key, v)
			if err != nil {
				return nil, err
			}
			item, ok := b.items[id]
			if !ok {
				return nil, notFound("question", id)
			}
			if to, err = a.editableNode(ctx, item.NodeID, nil); err != nil {
				return nil, err
			}
			f.NodeID, f.AssessmentItemID = nil, &item.ID
		case "preset":
			s, err := stringValue(key, v)
			if err != nil {
				return nil, err
			}
			f.PresetID = s
		case "language":
			s, err := languageValue(key, v)
			if err != nil {
				return nil, err
			}
			f.LanguageCode = s
		case "duration":
			if v == nil {
				f.Duration = nil
				continue
			}
			d, ok := intValue(v)
			if !ok || d <= 0 {
				return nil, badField(key, "must be a whole number of seconds, more than 0")
			}
			f.Duration = &d
		default:
			return nil, badField(key, "is not a field of a file that changes can set")
		}
	}
	p, ok := models.PresetByID(f.PresetID)
	if !ok {
		return nil, badField("preset", "%q is not a format preset", f.PresetID)
	}
	if !p.Allows(f.Extension) {
		return nil, badField("preset", "preset %s does not take .%s files", p.ID, f.Extension)
	}
	if f.Duration != nil && !p.NeedsDuration() {
		return nil, badField("duration", "only audio and video files have a duration")
	}
	f.ModifiedAt = a.now
	if to != nil {
		a.outcomes[k].channel = to.ChannelID
		*changed = append(*changed, contentChange{k: k, n: to, content: !p.Thumbnail})
	}
	if from != nil && (to == nil || from.ID != to.ID) {
		if a.outcomes[k].channel.IsZero() {
			a.outcomes[k].channel = from.ChannelID
		} else if a.outcomes[k].channel != from.ChannelID {
			// Taken to another channel: the source's log says it left.
			a.alsoLog(k, c, from.ChannelID)
		}
		*changed = append(*changed, contentChange{k: k, n: from, content: !p.Thumbnail})
	}
	return f, nil
}

// deleteFile checks a DELETED file change (the k-th of its group) and
// returns the file to delete, nil when it is gone already.
func (a *applier) deleteFile(ctx context.Context, k int, c Change, b *fileBatch, changed *[]contentChange) (*models.File, error) {
	f, n, err := a.fileFor(ctx, k, c, b)
	if models.CodeOf(err) == models.CodeNotFound && !isDisallowed(err) {
		return nil, nil // already gone
	}
	if err != nil {
		return nil, err
	}
	if n != nil {
		p, _ := models.PresetByID(f.PresetID)
		*changed = append(*changed, contentChange{k: k, n: n, content: !p.Thumbnail})
	}
	return f, nil
}

// saveFiles writes changed files in one update and deletes gone ones in one
// delete (in statements of at most 500 rows).
func (a *applier) saveFiles(ctx context.Context, updates []*models.File, deletes []models.ID) error {
	for start := 0; start < len(updates); start += 500 {
		batch := updates[start:min(start+500, len(updates))]
		var err error
		if len(batch) == 1 {
			_, err = a.tx.NewUpdate().Model(batch[0]).WherePK().Exec(ctx)
		} else {
			_, err = a.tx.NewUpdate().Model(&batch).Bulk().Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("db: update file: %w", err)
		}
	}
	if len(deletes) > 0 {
		if _, err := a.tx.NewDelete().Model((*models.File)(nil)).Where("id IN (?)", list(deletes)).Exec(ctx); err != nil {
			return fmt.Errorf("db: delete file: %w", err)
		}
	}
	return nil
}

// filesChanged follows a change to a node's files: a thumbnail changes only
// the node's flags; other files change its content (studio-backend.md §6 item 28).
func (a *applier) filesChanged(ctx context.Context, n *models.ContentNode, p models.FormatPreset) error {
	return a.contentChangedAll(ctx, []contentChange{{n: n, content: !p.Thumbnail}})
}

// Blobs are shared by checksum and stored before the file rows that name
// them commit (an upload stores its bytes in its transaction; a publish
// writes exercises' archives long before it records them), while the blob
// collector deletes blobs no row names. lockBlob is the lock that makes the
// two exclusive: a writer holds it from storing (or finding) a blob until its
// rows commit, and the collector holds it while it checks the rows and
// deletes. So the collector sees a writer's rows, or the writer finds no blob
// and stores it again. On SQLite every write transaction holds the database's
// one write lock already.
func (d *DB) lockBlob(ctx context.Context, tx bun.IDB, checksum string) error {
	return d.lockBlobs(ctx, tx, []string{checksum})
}

// lockBlobs takes the locks of several blobs in one statement, in a fixed
// order, so that two writers of the same blobs cannot deadlock.
func (d *DB) lockBlobs(ctx context.Context, tx bun.IDB, checksums []string) error {
	if !d.dialect.advisoryLocks || len(checksums) == 0 {
		return nil
	}
	keys := make([]int64, 0, len(checksums))
	for _, c := range checksums {
		h := fnv.New64a()
		h.Write([]byte("studio blob " + c))
		keys = append(keys, int64(h.Sum64()))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(CAST(? AS bigint[])) AS k ORDER BY 1) AS ks", pgdialect.Array(keys)).Exec(ctx); err != nil {
		return fmt.Errorf("db: lock blob: %w", err)
	}
	return nil
}

// WithBlob runs fn, which stores the blob of checksum, holding the blob's
// lock (see lockBlob), for writers whose rows commit later.
func (d *DB) WithBlob(ctx context.Context, checksum string, fn func(ctx context.Context) error) error {
	return d.door(ctx, func(ctx context.Context, w *writeTx) error {
		if err := d.lockBlob(ctx, w.Tx, checksum); err != nil {
			return err
		}
		return fn(ctx)
	})
}

// DeleteUnusedBlob runs del, holding the blob's lock (see lockBlob), unless
// a file names checksum or an upload URL keeps it (keptUploads). del deletes the blob, or declines (a writer stored
// it again meanwhile); DeleteUnusedBlob says whether it was deleted.
func (d *DB) DeleteUnusedBlob(ctx context.Context, checksum string, del func(ctx context.Context) (bool, error)) (bool, error) {
	deleted := false
	err := d.door(ctx, func(ctx context.Context, w *writeTx) error {
		if err := d.lockBlob(ctx, w.Tx, checksum); err != nil {
			return err
		}
		used, err := w.NewSelect().Model((*models.File)(nil)).Where("f.checksum = ?", checksum).Exists(ctx)
		if err != nil {
			return fmt.Errorf("db: checksum in use: %w", err)
		}
		if used {
			return nil
		}
		kept, keptArgs := keptUploads(time.Now())
		if used, err = w.NewSelect().Model((*UploadURL)(nil)).Where("uu.checksum = ?", checksum).Where(kept, keptArgs...).Exists(ctx); err != nil {
			return fmt.Errorf("db: checksum in use: %w", err)
		}
		if used {
			return nil
		}
		deleted, err = del(ctx)
		return err
	})
	return deleted, err
}
