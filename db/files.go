package db

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// Files come into being by upload; through changes they are moved between
// nodes and questions, described (language, preset, duration) and deleted.

// fileFor loads a file and the node it belongs to (directly, or through its
// question), with the node's channel locked for editing.
func (a *applier) fileFor(ctx context.Context, c Change) (*models.File, *models.ContentNode, error) {
	id, err := keyID(c.Key)
	if err != nil {
		return nil, nil, err
	}
	f := new(models.File)
	if err := a.tx.NewSelect().Model(f).Where("f.id = ?", id).Scan(ctx); isNoRows(err) {
		return nil, nil, notFound("file", id)
	} else if err != nil {
		return nil, nil, fmt.Errorf("db: load file: %w", err)
	}
	nodeID, err := a.fileNode(ctx, f)
	if err != nil {
		return nil, nil, err
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
	a.outcomes[0].channel = n.ChannelID
	return f, n, nil
}

// fileNode is the node a file belongs to, through its question if it has one.
func (a *applier) fileNode(ctx context.Context, f *models.File) (*models.ID, error) {
	if f.NodeID != nil || f.AssessmentItemID == nil {
		return f.NodeID, nil
	}
	var nodeID models.ID
	err := a.tx.NewSelect().Model((*models.AssessmentItem)(nil)).Column("node_id").Where("id = ?", *f.AssessmentItemID).Scan(ctx, &nodeID)
	if err != nil {
		return nil, fmt.Errorf("db: file's question: %w", err)
	}
	return &nodeID, nil
}

// updateFile applies an UPDATED file change: mods may set contentnode,
// assessment_item (attaching the file there), preset, language and duration.
func (a *applier) updateFile(ctx context.Context, c Change) error {
	f, from, err := a.fileFor(ctx, c)
	if err != nil {
		return err
	}
	var to *models.ContentNode
	for k, v := range c.Mods {
		switch k {
		case "contentnode":
			id, err := idValue(k, v)
			if err != nil {
				return err
			}
			if to, err = a.editableNode(ctx, id, nil); err != nil {
				return err
			}
			f.NodeID, f.AssessmentItemID = &to.ID, nil
		case "assessment_item":
			id, err := idValue(k, v)
			if err != nil {
				return err
			}
			var item models.AssessmentItem
			if err := a.tx.NewSelect().Model(&item).Where("ai.id = ?", id).Scan(ctx); err != nil {
				return notFound("question", id)
			}
			if to, err = a.editableNode(ctx, item.NodeID, nil); err != nil {
				return err
			}
			f.NodeID, f.AssessmentItemID = nil, &item.ID
		case "preset":
			s, err := stringValue(k, v)
			if err != nil {
				return err
			}
			f.PresetID = s
		case "language":
			s, err := languageValue(k, v)
			if err != nil {
				return err
			}
			f.LanguageCode = s
		case "duration":
			if v == nil {
				f.Duration = nil
				continue
			}
			d, ok := intValue(v)
			if !ok || d <= 0 {
				return badField(k, "must be a whole number of seconds, more than 0")
			}
			f.Duration = &d
		default:
			return badField(k, "is not a field of a file that changes can set")
		}
	}
	p, ok := models.PresetByID(f.PresetID)
	if !ok {
		return badField("preset", "%q is not a format preset", f.PresetID)
	}
	if !p.Allows(f.Extension) {
		return badField("preset", "preset %s does not take .%s files", p.ID, f.Extension)
	}
	if f.Duration != nil && !p.NeedsDuration() {
		return badField("duration", "only audio and video files have a duration")
	}
	f.ModifiedAt = a.now
	if _, err := a.tx.NewUpdate().Model(f).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("db: update file: %w", err)
	}
	if to != nil {
		a.outcomes[0].channel = to.ChannelID
		if err := a.filesChanged(ctx, to, p); err != nil {
			return err
		}
	}
	if from != nil && (to == nil || from.ID != to.ID) {
		if a.outcomes[0].channel.IsZero() {
			a.outcomes[0].channel = from.ChannelID
		} else if a.outcomes[0].channel != from.ChannelID {
			// Taken to another channel: the source's log says it left.
			a.alsoLog(0, c, from.ChannelID)
		}
		return a.filesChanged(ctx, from, p)
	}
	return nil
}

// deleteFile applies a DELETED file change.
func (a *applier) deleteFile(ctx context.Context, c Change) error {
	f, n, err := a.fileFor(ctx, c)
	if models.CodeOf(err) == models.CodeNotFound && !isDisallowed(err) {
		return nil // already gone
	}
	if err != nil {
		return err
	}
	if _, err := a.tx.NewDelete().Model(f).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("db: delete file: %w", err)
	}
	if n == nil {
		return nil
	}
	p, _ := models.PresetByID(f.PresetID)
	return a.filesChanged(ctx, n, p)
}

// filesChanged follows a change to a node's files: a thumbnail changes only
// the node's flags; other files change its content (studio-backend.md §6 item 28).
func (a *applier) filesChanged(ctx context.Context, n *models.ContentNode, p models.FormatPreset) error {
	if p.Thumbnail {
		return a.saveEdits(ctx, []*nodeEdit{{n: n, fieldsChanged: []string{"files"}}})
	}
	return a.contentChanged(ctx, n)
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
	if d.Kind != Postgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte("studio blob " + checksum))
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())); err != nil {
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
