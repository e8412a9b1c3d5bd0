package db

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"github.com/uptrace/bun"

	"studio/models"
)

// Importing a published channel (jobs/import.go) is a chef's upload whose
// nodes come from a content database: these are the writes it needs
// beside BeginChefTree, AddChefNodes and FinishChefTree.

// ImportRequest asks for a published channel to be imported.
type ImportRequest struct {
	// Source is the base URL or directory the channel is served from.
	Source          string
	SourceChannelID models.ID
	// As is the caller's channel the import becomes the next version of (a
	// staged tree); zero imports into a new channel with the source's id.
	As models.ID
	// Name and Language name a new channel until the import fills it in.
	Name, Language string
}

// RequestImport makes, for u, the channel an import fills (a new one with
// the source channel's id, which must be free; or As, which u must edit),
// records the import, and calls enqueue in the same transaction with the
// channel's id: it inserts the job and says whether it is new. A new job's
// first event, QUEUED, is recorded with it; a job already pending for the
// channel is refused with CONFLICT. It returns the job and the channel.
func (d *DB) RequestImport(ctx context.Context, u *models.User, in ImportRequest, enqueue func(ctx context.Context, tx *sql.Tx, channelID models.ID) (job int64, fresh bool, err error)) (int64, models.ID, error) {
	if u == nil {
		return 0, models.ID{}, models.Errorf(models.CodeUnauthenticated, "sign in to import a channel")
	}
	if in.SourceChannelID.IsZero() {
		return 0, models.ID{}, badField("channel", "the source channel's id is required")
	}
	if err := limitText("source", in.Source, 2000); err != nil {
		return 0, models.ID{}, err
	}
	target, staged := in.As, !in.As.IsZero()
	if !staged {
		target = in.SourceChannelID
	}
	var job int64
	err := d.door(ctx, func(ctx context.Context, w *writeTx) error {
		a := newApplier(d, w.Tx, u, true)
		if staged {
			if _, err := a.editChannel(ctx, target); err != nil {
				return unwrapDisallowed(err)
			}
		} else {
			taken, err := w.NewSelect().Model((*models.Channel)(nil)).Where("c.id = ?", target).Exists(ctx)
			if err != nil {
				return fmt.Errorf("db: request import: %w", err)
			}
			if taken {
				if _, err := a.editChannel(ctx, target); err == nil {
					return models.Errorf(models.CodeConflict, "channel %s is already here, and you edit it: import with as: %s to stage this version of it for review", target, target)
				}
				return models.Errorf(models.CodeConflict, "a channel with id %s is already here, and you cannot edit it: its ids must be kept to publish it back the same, so it cannot be imported as a new channel; ask its editors, or import it as the next version of a channel of yours (as)", target)
			}
			name := in.Name
			if name == "" {
				name = "Importing " + target.String()
			}
			c := Change{Type: models.ChangeCreated, Table: TableChannel, Key: target, Obj: map[string]any{"name": name, "language": in.Language}}
			if in.Language != "" {
				if _, err := models.LanguageByCode(in.Language); err != nil {
					delete(c.Obj, "language")
				}
			}
			res, err := a.run(ctx, []Change{c})
			if err := chefError(res, err); err != nil {
				return err
			}
		}
		var fresh bool
		var err error
		if job, fresh, err = enqueue(ctx, w.Tx.Tx, target); err != nil {
			return err
		}
		if !fresh {
			return models.Errorf(models.CodeConflict, "channel %s is being imported already (job %s): wait for that import to end", target, models.JobID(job))
		}
		rec := &models.ChannelImport{JobID: job, ChannelID: target, UserID: &u.ID, Source: in.Source, SourceChannelID: in.SourceChannelID,
			Staged: staged, Warnings: []string{}, CreatedAt: now()}
		if _, err := w.NewInsert().Model(rec).Exec(ctx); err != nil {
			return fmt.Errorf("db: record import: %w", err)
		}
		w.record(a.log...)
		for id := range a.written {
			w.touch(id)
		}
		return addJobEvent(ctx, w, &models.JobEvent{JobID: job, ChannelID: &target, State: models.JobQueued})
	})
	if err != nil {
		return 0, models.ID{}, err
	}
	return job, target, nil
}

// ImportByJob reads the import job n runs, nil if there is none.
func (d *DB) ImportByJob(ctx context.Context, n int64) (*models.ChannelImport, error) {
	got, err := d.ImportsByJob(ctx, []int64{n})
	if err != nil {
		return nil, err
	}
	return got[n], nil
}

// ImportsByJob reads the imports jobs run, by job.
func (d *DB) ImportsByJob(ctx context.Context, jobs []int64) (map[int64]*models.ChannelImport, error) {
	out := map[int64]*models.ChannelImport{}
	if len(jobs) == 0 {
		return out, nil
	}
	var recs []*models.ChannelImport
	if err := d.sql.NewSelect().Model(&recs).ExcludeColumn("nodes").Where("ci.job_id IN (?)", bun.List(jobs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: imports: %w", err)
	}
	for _, r := range recs {
		out[r.JobID] = r
	}
	return out, nil
}

// PreviousImport is the last finished import of sourceChannelID into
// channelID before job, with its nodes' digests; nil if there is none.
func (d *DB) PreviousImport(ctx context.Context, channelID, sourceChannelID models.ID, job int64) (*models.ChannelImport, error) {
	var recs []*models.ChannelImport
	err := d.sql.NewSelect().Model(&recs).Where("ci.channel_id = ? AND ci.source_channel_id = ? AND ci.job_id <> ? AND ci.finished_at IS NOT NULL",
		channelID, sourceChannelID, job).OrderExpr("ci.finished_at DESC, ci.job_id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: previous import: %w", err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return recs[0], nil
}

// LatestImports are each channel's last finished import, without its
// nodes' digests; a channel never imported is left out.
func (d *DB) LatestImports(ctx context.Context, channelIDs []models.ID) (map[models.ID]*models.ChannelImport, error) {
	var recs []*models.ChannelImport
	err := d.sql.NewSelect().Model(&recs).ExcludeColumn("nodes").Where("ci.channel_id IN (?) AND ci.finished_at IS NOT NULL", list(channelIDs)).
		OrderExpr("ci.finished_at DESC, ci.job_id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: latest imports: %w", err)
	}
	out := map[models.ID]*models.ChannelImport{}
	for _, r := range recs {
		if _, ok := out[r.ChannelID]; !ok {
			out[r.ChannelID] = r
		}
	}
	return out, nil
}

// ImportResult is what an import records when it finishes.
type ImportResult struct {
	SourceVersion int
	Nodes         map[string]string
	Changes       *models.UpstreamChanges
	Warnings      []string
}

// FinishImport ends job's import into channelID: its chef tree becomes the
// main tree (or, for an import as a new version, the staging tree), the
// import is recorded as finished with res, and a new channel takes the
// source's version, so that its next publish is the source's next version
// (Kolibri installs a channel only over an older version), all in one
// transaction.
func (d *DB) FinishImport(ctx context.Context, u *models.User, job int64, channelID models.ID, res ImportResult) (*models.Channel, error) {
	rec, err := d.ImportByJob(ctx, job)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.ChannelID != channelID {
		return nil, models.Errorf(models.CodeNotFound, "job %d imports nothing into channel %s", job, channelID)
	}
	return d.finishChefTree(ctx, u, channelID, rec.Staged, func(ctx context.Context, a *applier, ch *models.Channel) error {
		t := a.now
		warnings := res.Warnings
		if warnings == nil {
			warnings = []string{}
		}
		upd := &models.ChannelImport{JobID: job, SourceVersion: &res.SourceVersion, Nodes: res.Nodes, Changes: res.Changes,
			Warnings: warnings, FinishedAt: &t}
		if _, err := a.tx.NewUpdate().Model(upd).Column("source_version", "nodes", "changes", "warnings", "finished_at").
			WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("db: finish import: %w", err)
		}
		if rec.Staged || ch.Version >= res.SourceVersion {
			return nil
		}
		ch.Version = res.SourceVersion
		if _, err := a.tx.NewUpdate().Model(ch).Column("version").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("db: finish import: version: %w", err)
		}
		a.log = append(a.log, a.logEntry(Change{Type: models.ChangeUpdated, Table: TableChannel, Key: ch.ID, Mods: map[string]any{"version": ch.Version}}, ch.ID))
		return nil
	})
}

// DiscardChefTree deletes channelID's unfinished upload, if any, at once
// (its files, questions and tags with it) rather than leaving it for the
// collector: a retried import builds its tree again, and the ids of the
// files it keeps must be free.
func (d *DB) DiscardChefTree(ctx context.Context, u *models.User, channelID models.ID) error {
	if u == nil {
		return models.Errorf(models.CodeUnauthenticated, "sign in to change a channel")
	}
	_, err := d.write(ctx, u, true, func(ctx context.Context, a *applier) (*Result, error) {
		ca, err := a.editChannel(ctx, channelID)
		if err != nil {
			return nil, unwrapDisallowed(err)
		}
		ch := ca.Channel
		if ch.ChefRootID == nil {
			return &Result{}, nil
		}
		if err := a.deleteSubtrees(ctx, []models.ID{*ch.ChefRootID}); err != nil {
			return nil, err
		}
		ch.ChefRootID = nil
		ch.ModifiedAt = a.now
		return &Result{}, a.saveChannelTrees(ctx, ch, map[string]any{"chef_root_id": nil})
	})
	return err
}

// ChefPrerequisite says a learner should finish Prerequisite before Target;
// both are node_ids of the channel's upload.
type ChefPrerequisite struct {
	Target, Prerequisite models.ID
}

// AddChefPrerequisites adds prerequisites between nodes of channelID's
// upload (its chef tree), named by node_id, in one transaction; a pair
// naming a node the upload lacks is refused.
func (d *DB) AddChefPrerequisites(ctx context.Context, u *models.User, channelID models.ID, pairs []ChefPrerequisite) error {
	if u == nil {
		return models.Errorf(models.CodeUnauthenticated, "sign in to upload a channel")
	}
	if len(pairs) > maxGroup {
		return models.Errorf(models.CodeBadUserInput, "at most %d prerequisites a call; you sent %d", maxGroup, len(pairs))
	}
	if len(pairs) == 0 {
		return nil
	}
	res, err := d.write(ctx, u, true, func(ctx context.Context, a *applier) (*Result, error) {
		ca, err := a.editChannel(ctx, channelID)
		if err != nil {
			return nil, unwrapDisallowed(err)
		}
		if ca.ChefRootID == nil {
			return nil, models.Errorf(models.CodeBadUserInput, "channel %s has no upload to add prerequisites to: create_channel first", channelID)
		}
		want := map[models.ID]bool{}
		for _, p := range pairs {
			want[p.Target], want[p.Prerequisite] = true, true
		}
		var rows []*models.ContentNode
		if err := a.tx.NewSelect().Model(&rows).Column("id", "node_id").
			Where("cn.root_id = ? AND cn.node_id IN (?)", *ca.ChefRootID, list(slices.Collect(maps.Keys(want)))).Scan(ctx); err != nil {
			return nil, fmt.Errorf("db: add chef prerequisites: %w", err)
		}
		ids := map[models.ID]models.ID{}
		for _, n := range rows {
			ids[n.NodeID] = n.ID
		}
		changes := make([]Change, len(pairs))
		for i, p := range pairs {
			target, ok1 := ids[p.Target]
			pre, ok2 := ids[p.Prerequisite]
			if !ok1 || !ok2 {
				return nil, models.Errorf(models.CodeBadUserInput, "prerequisite %d: the upload has no node %s", i, map[bool]models.ID{true: p.Prerequisite, false: p.Target}[ok1])
			}
			changes[i] = Change{Type: models.ChangeCreated, Table: TablePrerequisite, Key: []any{target, pre}}
		}
		return a.run(ctx, changes)
	})
	return chefError(res, err)
}

// setChefRoot gives a new tree's root what an import knows of the
// published root.
func setChefRoot(r *models.ContentNode, in *ChefNode) error {
	if !in.NodeID.IsZero() {
		r.NodeID = in.NodeID
	}
	if !in.ContentID.IsZero() {
		r.ContentID = in.ContentID
	}
	if in.SortOrder != nil {
		r.SortOrder = *in.SortOrder
	}
	for field, v := range map[string]string{"description": in.Description, "author": in.Author, "aggregator": in.Aggregator,
		"provider": in.Provider, "copyright_holder": in.CopyrightHolder, "license_description": in.LicenseDescription} {
		if err := limitText(field, v, fieldLimit(field)); err != nil {
			return err
		}
	}
	r.Description, r.Author, r.Aggregator, r.Provider = in.Description, in.Author, in.Aggregator, in.Provider
	r.CopyrightHolder, r.LicenseDescription = in.CopyrightHolder, in.LicenseDescription
	if in.License != "" {
		if l, ok := models.LicenseByName(in.License); ok {
			r.LicenseName = l.Name
		}
	}
	if in.Language != "" {
		l, err := models.LanguageByCode(in.Language)
		if err != nil {
			return badField("language", "%v", err)
		}
		r.LanguageCode = l.ID
	}
	if in.ExtraFields != nil {
		r.ExtraFields = maps.Clone(in.ExtraFields)
	}
	for field, ids := range in.Labels {
		for _, f := range models.NodeFields {
			if f.Column == field && f.Type == models.FieldLabels {
				*(f.Of(r).(*map[string]any)) = labelObject(ids)
			}
		}
	}
	if in.Origin != nil {
		setOrigin(r, in.Origin)
	}
	return nil
}

// fieldLimit is a node text field's limit in characters.
func fieldLimit(column string) int {
	for _, f := range models.NodeFields {
		if f.Column == column && f.Limit > 0 {
			return f.Limit
		}
	}
	return 100000
}

func setOrigin(n *models.ContentNode, o *ChefOrigin) {
	ch, node := o.ChannelID, o.NodeID
	n.SourceChannelID, n.SourceNodeID, n.OriginalChannelID, n.OriginalSourceNodeID = &ch, &node, &ch, &node
}

// setChefPlace gives a chef's node just created the sort order and origin
// it was sent with, and returns them as the mods to log.
func setChefPlace(n *models.ContentNode, cn *ChefNode) map[string]any {
	mods := map[string]any{}
	if cn.SortOrder != nil {
		n.SortOrder = *cn.SortOrder
		mods["sort_order"] = n.SortOrder
	}
	if cn.Origin != nil {
		setOrigin(n, cn.Origin)
		mods["source_channel_id"], mods["source_node_id"] = cn.Origin.ChannelID, cn.Origin.NodeID
		mods["original_channel_id"], mods["original_source_node_id"] = cn.Origin.ChannelID, cn.Origin.NodeID
	}
	return mods
}

// freeFileIDs gives a new id to each file whose id is taken, by a stored
// file or by an earlier one of files.
func (a *applier) freeFileIDs(ctx context.Context, files []*models.File) error {
	if len(files) == 0 {
		return nil
	}
	ids := make([]models.ID, len(files))
	for i, f := range files {
		ids[i] = f.ID
	}
	var taken []models.ID
	for start := 0; start < len(ids); start += 1000 {
		var got []models.ID
		if err := a.tx.NewSelect().Model((*models.File)(nil)).Column("f.id").Where("f.id IN (?)", list(ids[start:min(start+1000, len(ids))])).
			Scan(ctx, &got); err != nil {
			return fmt.Errorf("db: file ids: %w", err)
		}
		taken = append(taken, got...)
	}
	used := map[models.ID]bool{}
	for _, id := range taken {
		used[id] = true
	}
	for _, f := range files {
		if used[f.ID] {
			f.ID = models.NewID()
		}
		used[f.ID] = true
	}
	return nil
}
