package db

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// A chef (a ricecooker script) uploads a channel as a new tree beside the
// live one: BeginChefTree makes the tree's root, AddChefNodes hangs nodes
// under it (or under a topic added earlier), FinishChefTree makes it the
// main tree (stage false) or the staging tree (stage true), which
// DeployStagingTree later makes the main tree. Nothing an editor or a
// learner sees changes before then; the tree replaced goes to the garbage,
// which a job collects. Every call is one write through the door.

// ChefChannel is create_channel's channel_data.
type ChefChannel struct {
	ID                models.ID
	Name              string
	Description       string
	Tagline           string
	Language          string // "" for none
	Thumbnail         string // "<md5>.<ext>" of a stored blob, or ""
	SourceID          string
	SourceDomain      string
	RicecookerVersion string
	ExtraFields       map[string]any
	// ThumbnailEncoding, if set, is the channel's thumbnail_encoding
	// ({"base64": "data:image/…"}), what a publish writes as its thumbnail.
	ThumbnailEncoding map[string]any
	// Root, if set, gives the new tree's root the node_id, content_id,
	// sort order and metadata of a published root (an import's), rather
	// than the channel's id and no metadata.
	Root *ChefNode
}

// ChefFile is a file a chef names by its bytes: "<md5>.<ext>", uploaded
// (or found stored) before the node that uses it is added.
type ChefFile struct {
	// ID is the file's id when it is free (an import keeps Kolibri's
	// content_file ids); zero, or taken, gives a new one.
	ID               models.ID
	Filename         string // "<md5>.<ext>"
	Preset           string
	Size             int64
	OriginalFilename string
	Language         string
	SourceURL        string
	Duration         *int
}

// ChefQuestion is one question of an exercise, answers and hints decoded.
type ChefQuestion struct {
	AssessmentID models.ID
	Type         string
	Question     string
	Answers      []any
	Hints        []any
	RawData      string
	SourceURL    string
	Randomize    bool
	Files        []ChefFile
}

// ChefNode is one node of add_nodes' content_data, its JSON strings
// (extra_fields) decoded. A node with SourceChannelID is a copy of a
// resource of that channel's main tree (by SourceNodeID, else the first
// with SourceContentID) with the fields given as overrides.
type ChefNode struct {
	NodeID             models.ID
	ContentID          models.ID
	SourceID           string
	SourceDomain       string
	Kind               string
	Title              string
	Description        string
	Author             string
	Aggregator         string
	Provider           string
	CopyrightHolder    string
	License            string // a license name, "" for none
	LicenseDescription string
	Language           string
	Role               string // learner or coach ("" for learner)
	SuggestedDuration  *int
	ExtraFields        map[string]any
	Tags               []string
	Labels             map[string][]string // by field: grade_levels, categories, …
	Files              []ChefFile
	Questions          []ChefQuestion

	SourceChannelID *models.ID
	SourceNodeID    *models.ID
	SourceContentID *models.ID

	// SortOrder, if set, is the node's sort_order rather than the next
	// after its last sibling: an import keeps the published order values,
	// which must grow along the siblings sent.
	SortOrder *float64
	// Origin, if set, names the published node this one was imported from:
	// it becomes the node's source and original channel and node, as a
	// copy's are.
	Origin *ChefOrigin
}

// ChefOrigin is the channel and node_id a node was imported from.
type ChefOrigin struct {
	ChannelID models.ID
	NodeID    models.ID
}

// Stored says whether the blob of a chef's file (checksum, extension) is in
// the store; the server asks its blob store.
type Stored func(ctx context.Context, checksum, ext string) (bool, error)

// BeginChefTree creates the channel ch.ID (u becomes its editor) or
// updates it (u must edit it), and gives it a new, empty tree for a chef's
// upload, whose root it returns. A tree an earlier upload left unfinished
// goes to the garbage.
func (d *DB) BeginChefTree(ctx context.Context, u *models.User, in ChefChannel) (*models.Channel, models.ID, error) {
	if u == nil {
		return nil, models.ID{}, models.Errorf(models.CodeUnauthenticated, "sign in to upload a channel")
	}
	if in.ID.IsZero() {
		return nil, models.ID{}, badField("id", "a channel needs an id")
	}
	for field, v := range map[string]string{"source_id": in.SourceID, "source_domain": in.SourceDomain, "ricecooker_version": in.RicecookerVersion, "thumbnail": in.Thumbnail} {
		if err := limitText(field, v, 400); err != nil {
			return nil, models.ID{}, err
		}
	}
	var ch *models.Channel
	var root models.ID
	res, err := d.write(ctx, u, true, func(ctx context.Context, a *applier) (*Result, error) {
		exists, err := a.tx.NewSelect().Model((*models.Channel)(nil)).Where("c.id = ?", in.ID).Exists(ctx)
		if err != nil {
			return nil, fmt.Errorf("db: begin chef tree: %w", err)
		}
		fields := map[string]any{"name": in.Name, "description": in.Description, "tagline": in.Tagline, "language": in.Language}
		c := Change{Type: models.ChangeCreated, Table: TableChannel, Key: in.ID, Obj: fields}
		if exists {
			c = Change{Type: models.ChangeUpdated, Table: TableChannel, Key: in.ID, Mods: fields}
		}
		res, err := a.run(ctx, []Change{c})
		if err != nil || len(res.Disallowed) > 0 {
			return res, err
		}
		ca, err := a.editChannel(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		ch = ca.Channel
		if ch.ChefRootID != nil {
			if err := a.discardTree(ctx, ch.ID, *ch.ChefRootID); err != nil {
				return nil, err
			}
		}
		r := newRoot(ch, models.NewID(), a.u, a.now)
		r.OriginalChannelID, r.SourceChannelID = &ch.ID, &ch.ID
		if in.Root != nil {
			if err := setChefRoot(r, in.Root); err != nil {
				return nil, err
			}
		}
		if _, err := a.tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return nil, fmt.Errorf("db: begin chef tree: root: %w", err)
		}
		root = r.ID
		ch.ChefRootID, ch.SourceID, ch.SourceDomain, ch.RicecookerVersion = &r.ID, in.SourceID, in.SourceDomain, in.RicecookerVersion
		if in.Thumbnail != "" {
			ch.Thumbnail = in.Thumbnail
		}
		if in.ThumbnailEncoding != nil {
			ch.ThumbnailEncoding = in.ThumbnailEncoding
		}
		ch.ModifiedAt = a.now
		mods := map[string]any{"chef_root_id": r.ID, "source_id": ch.SourceID, "source_domain": ch.SourceDomain,
			"ricecooker_version": ch.RicecookerVersion, "thumbnail": ch.Thumbnail}
		if in.ThumbnailEncoding != nil {
			mods["thumbnail_encoding"] = ch.ThumbnailEncoding
		}
		return res, a.saveChannelTrees(ctx, ch, mods)
	})
	if err := chefError(res, err); err != nil {
		return nil, models.ID{}, err
	}
	return ch, root, nil
}

// saveChannelTrees writes a channel's trees and chef fields, and logs the
// change with mods.
func (a *applier) saveChannelTrees(ctx context.Context, ch *models.Channel, mods map[string]any) error {
	_, err := a.tx.NewUpdate().Model(ch).WherePK().Column("root_id", "chef_root_id", "staging_root_id", "source_id",
		"source_domain", "ricecooker_version", "thumbnail", "thumbnail_encoding", "modified_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("db: channel trees: %w", err)
	}
	a.log = append(a.log, a.logEntry(Change{Type: models.ChangeUpdated, Table: TableChannel, Key: ch.ID, Mods: mods}, ch.ID))
	a.written[ch.ID] = true
	return nil
}

// garbageTree is a tree no channel shows any more, for CollectGarbageTrees.
type garbageTree struct {
	bun.BaseModel `bun:"table:garbage_trees,alias:gt"`

	RootID    models.ID `bun:"root_id,pk,type:uuid"`
	ChannelID models.ID `bun:"channel_id,type:uuid"`
	CreatedAt time.Time `bun:"created_at"`
}

// discardTree sends the tree under root to the garbage.
func (a *applier) discardTree(ctx context.Context, channelID, root models.ID) error {
	g := &garbageTree{RootID: root, ChannelID: channelID, CreatedAt: a.now}
	if _, err := a.tx.NewInsert().Model(g).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("db: discard tree: %w", err)
	}
	return nil
}

// CollectGarbageTrees deletes, one a transaction, the trees that were
// replaced, with their files, questions and tags; it returns how many.
func (d *DB) CollectGarbageTrees(ctx context.Context) (int, error) {
	var roots []models.ID
	if err := d.sql.NewSelect().Model((*garbageTree)(nil)).Column("root_id").Order("created_at").Limit(1000).Scan(ctx, &roots); err != nil {
		return 0, fmt.Errorf("db: garbage trees: %w", err)
	}
	for i, root := range roots {
		err := d.door(ctx, func(ctx context.Context, w *writeTx) error {
			a := newApplier(d, w.Tx, nil, true)
			if err := a.deleteSubtrees(ctx, []models.ID{root}); err != nil {
				return err
			}
			_, err := w.NewDelete().Model((*garbageTree)(nil)).Where("root_id = ?", root).Exec(ctx)
			return err
		})
		if err != nil {
			return i, fmt.Errorf("db: collect garbage tree %s: %w", root, err)
		}
	}
	return len(roots), nil
}

// AddChefNodes adds nodes, in order, as the last children of parent (the
// root BeginChefTree gave, or a topic added since), keeping their node_id
// and content_id, with their questions and files, in one transaction. A
// node whose node_id is already among parent's children is skipped. It
// returns the server id of every node sent, by node_id (skipped ones too).
// Files must name blobs the store holds (stored says): a missing one fails
// the call with NOT_FOUND naming the node and file. The statements it runs
// do not depend on how many questions or files the nodes have.
func (d *DB) AddChefNodes(ctx context.Context, u *models.User, parent models.ID, nodes []ChefNode, stored Stored) (map[models.ID]models.ID, error) {
	if u == nil {
		return nil, models.Errorf(models.CodeUnauthenticated, "sign in to upload a channel")
	}
	if len(nodes) > maxGroup {
		return nil, models.Errorf(models.CodeBadUserInput, "at most %d nodes a call; you sent %d", maxGroup, len(nodes))
	}
	files, err := chefFiles(ctx, nodes, stored)
	if err != nil {
		return nil, err
	}
	var ids map[models.ID]models.ID
	res, err := d.write(ctx, u, true, func(ctx context.Context, a *applier) (*Result, error) {
		var err error
		ids = map[models.ID]models.ID{}
		p, err := a.editableNode(ctx, parent, nil)
		if err != nil {
			return nil, unwrapDisallowed(err)
		}
		if p.Kind != models.KindTopic {
			return nil, badField("root_id", "%s is a %s: nodes go under topics", p.ID, p.Kind)
		}
		var kids []*models.ContentNode
		if err := a.tx.NewSelect().Model(&kids).Column("id", "node_id").Where("cn.parent_id = ?", p.ID).Scan(ctx); err != nil {
			return nil, fmt.Errorf("db: add chef nodes: %w", err)
		}
		for _, k := range kids {
			ids[k.NodeID] = k.ID
		}
		var changes []Change
		var added []int // indexes into nodes, by change
		for i, cn := range nodes {
			if _, dup := ids[cn.NodeID]; dup && !cn.NodeID.IsZero() {
				continue
			}
			id := models.NewID()
			ids[cn.NodeID] = id
			c, err := a.chefChange(ctx, id, p.ID, cn)
			if err != nil {
				return nil, nodeError(i, cn, err)
			}
			changes = append(changes, c)
			added = append(added, i)
		}
		res, err := a.run(ctx, changes)
		if err != nil || len(res.Disallowed) > 0 {
			if res != nil {
				for k := range res.Errors {
					i := added[res.Errors[k].Index]
					res.Errors[k].Index = i
					res.Errors[k].Message = fmt.Sprintf("node %s (%s): %s", nodes[i].NodeID, nodes[i].Title, res.Errors[k].Message)
				}
			}
			return res, err
		}
		var made []*nodeMade
		for _, i := range added {
			if nodes[i].SourceChannelID == nil {
				made = append(made, &nodeMade{id: ids[nodes[i].NodeID], node: &nodes[i], files: files[i]})
			}
		}
		return res, a.addChefContent(ctx, made)
	})
	if err := chefError(res, err); err != nil {
		return nil, err
	}
	return ids, nil
}

// nodeMade is a chef's node just created, with its files' rows to add.
type nodeMade struct {
	id    models.ID
	node  *ChefNode
	files []*models.File // the node's, then its questions' (AssessmentItemID set later)
}

// chefChange is the change that creates a chef's node under parent: a new
// node, or a copy of a resource of another channel.
func (a *applier) chefChange(ctx context.Context, id, parent models.ID, cn ChefNode) (Change, error) {
	if cn.SourceChannelID != nil {
		src, err := a.chefSource(ctx, cn)
		if err != nil {
			return Change{}, err
		}
		mods := map[string]any{}
		for k, v := range map[string]string{"title": cn.Title, "description": cn.Description, "aggregator": cn.Aggregator, "provider": cn.Provider} {
			if v != "" {
				mods[k] = v
			}
		}
		if cn.Role != "" {
			mods["role_visibility"] = cn.Role
		}
		if cn.SuggestedDuration != nil {
			mods["suggested_duration"] = *cn.SuggestedDuration
		}
		if len(cn.ExtraFields) > 0 {
			mods["extra_fields"] = cn.ExtraFields
		}
		for field, ids := range cn.Labels {
			mods[field] = labelObject(ids)
		}
		return Change{Type: models.ChangeCopied, Table: TableContentNode, Key: id, FromKey: &src, Target: &parent, Position: LastChild, Mods: mods}, nil
	}
	obj := map[string]any{"parent": parent, "kind": cn.Kind, "title": cn.Title, "description": cn.Description,
		"author": cn.Author, "aggregator": cn.Aggregator, "provider": cn.Provider, "copyright_holder": cn.CopyrightHolder,
		"license": cn.License, "license_description": cn.LicenseDescription, "language": cn.Language,
		"source_id": cn.SourceID, "source_domain": cn.SourceDomain}
	if !cn.NodeID.IsZero() {
		obj["node_id"] = cn.NodeID
	}
	if !cn.ContentID.IsZero() {
		obj["content_id"] = cn.ContentID
	}
	if cn.Role != "" {
		obj["role_visibility"] = cn.Role
	}
	if cn.SuggestedDuration != nil {
		obj["suggested_duration"] = *cn.SuggestedDuration
	}
	if cn.ExtraFields != nil {
		obj["extra_fields"] = cn.ExtraFields
	}
	if cn.Kind == models.KindExercise {
		ef := map[string]any{}
		maps.Copy(ef, cn.ExtraFields)
		if _, ok := ef["randomize"]; !ok {
			ef["randomize"] = true // ricecooker's default
		}
		obj["extra_fields"] = ef
	}
	if len(cn.Tags) > 0 {
		obj["tags"] = labelObject(cn.Tags)
	}
	for field, ids := range cn.Labels {
		obj[field] = labelObject(ids)
	}
	return Change{Type: models.ChangeCreated, Table: TableContentNode, Key: id, Obj: obj, Position: LastChild}, nil
}

func labelObject(ids []string) map[string]any {
	m := make(map[string]any, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// chefSource finds the resource a chef's copied node names, in the main
// tree of its source channel: by node_id, else the first with its
// content_id. Whether the caller may view it, the copy decides.
func (a *applier) chefSource(ctx context.Context, cn ChefNode) (models.ID, error) {
	q := a.tx.NewSelect().Model((*models.ContentNode)(nil)).Column("cn.id").
		Join("JOIN channels AS c ON c.root_id = cn.root_id").
		Where("c.id = ? AND cn.kind <> ?", *cn.SourceChannelID, models.KindTopic).OrderExpr("cn.created_at, cn.id").Limit(1)
	switch {
	case cn.SourceNodeID != nil:
		q = q.Where("cn.node_id = ?", *cn.SourceNodeID)
	case cn.SourceContentID != nil:
		q = q.Where("cn.content_id = ?", *cn.SourceContentID)
	default:
		return models.ID{}, badField("source_node_id", "a copied node names its source by source_node_id or source_content_id")
	}
	var ids []models.ID
	if err := q.Scan(ctx, &ids); err != nil {
		return models.ID{}, fmt.Errorf("db: chef source: %w", err)
	}
	if len(ids) == 0 {
		return models.ID{}, models.Errorf(models.CodeBadUserInput, "channel %s has no resource with that id in its main tree, or you cannot see it", *cn.SourceChannelID)
	}
	return ids[0], nil
}

// addChefContent adds the questions and files of nodes just created: all
// questions in one statement, all files in one, then every node's
// completeness in one, each logged.
func (a *applier) addChefContent(ctx context.Context, made []*nodeMade) error {
	var items []*models.AssessmentItem
	var files []*models.File
	var edits []*nodeEdit
	var all []*models.File
	for _, m := range made {
		all = append(all, m.files...)
	}
	if err := a.freeFileIDs(ctx, all); err != nil {
		return err
	}
	for _, m := range made {
		n, err := a.node(ctx, m.id)
		if err != nil {
			return err
		}
		edits = append(edits, &nodeEdit{n: n, fieldsChanged: []string{"content"}})
		if mods := setChefPlace(n, m.node); len(mods) > 0 {
			a.log = append(a.log, a.logEntry(Change{Type: models.ChangeUpdated, Table: TableContentNode, Key: n.ID, Mods: mods}, n.ChannelID))
		}
		seen := map[models.ID]bool{}
		for qi, q := range m.node.Questions {
			if seen[q.AssessmentID] {
				return nodeError(0, *m.node, models.Errorf(models.CodeBadUserInput, "question %s is there twice: assessment ids are unique in an exercise", q.AssessmentID))
			}
			seen[q.AssessmentID] = true
			it := &models.AssessmentItem{ID: models.NewID(), NodeID: n.ID, AssessmentID: q.AssessmentID, Answers: []any{}, Hints: []any{},
				Order: qi + 1, CreatedAt: a.now}
			fields := map[string]any{"type": q.Type, "question": q.Question, "answers": q.Answers, "hints": q.Hints,
				"raw_data": q.RawData, "source_url": q.SourceURL, "randomize": q.Randomize}
			if err := setItemFields(it, fields, true); err != nil {
				return nodeError(0, *m.node, fmt.Errorf("question %s: %w", q.AssessmentID, err))
			}
			it.ModifiedAt = a.now
			items = append(items, it)
			a.log = append(a.log, a.logEntry(Change{Type: models.ChangeCreated, Table: TableAssessmentItem,
				Key: []any{n.ID, q.AssessmentID}, Obj: fields}, n.ChannelID))
			for _, f := range m.files {
				if f.AssessmentItemID != nil && *f.AssessmentItemID == q.AssessmentID {
					f.AssessmentItemID = &it.ID
				}
			}
		}
		for _, f := range m.files {
			if f.AssessmentItemID == nil {
				f.NodeID = &n.ID
				if p, _ := models.PresetByID(f.PresetID); p.Kind != "" && p.Kind != n.Kind {
					return nodeError(0, *m.node, badField("preset", "preset %s is for %s nodes, and this is a %s", p.ID, p.Kind, n.Kind))
				}
			}
			f.UploadedByID = &a.u.ID
			f.CreatedAt, f.ModifiedAt = a.now, a.now
			files = append(files, f)
			a.log = append(a.log, a.logEntry(Change{Type: models.ChangeCreated, Table: TableFile, Key: f.ID, Obj: map[string]any{
				"checksum": f.Checksum, "file_size": f.Size, "file_format": f.Extension, "preset": f.PresetID,
				"contentnode": f.NodeID, "assessment_item": f.AssessmentItemID, "language": f.LanguageCode, "duration": f.Duration}}, n.ChannelID))
		}
	}
	if err := a.d.checkQuota(ctx, a.tx, a.u, files); err != nil {
		return err
	}
	checksums := make([]string, len(files))
	for i, f := range files {
		checksums[i] = f.Checksum
	}
	if err := a.d.lockBlobs(ctx, a.tx, checksums); err != nil { // until the rows commit: see lockBlob
		return err
	}
	if err := insertBatches(ctx, a.tx, items); err != nil {
		return fmt.Errorf("db: add chef questions: %w", err)
	}
	if err := insertBatches(ctx, a.tx, files); err != nil {
		return fmt.Errorf("db: add chef files: %w", err)
	}
	if len(edits) == 0 {
		return nil
	}
	return a.saveEdits(ctx, edits)
}

// chefFiles checks that the blobs every node's files name are stored and
// turns them into rows, by node: the node's files first, then its
// questions' (AssessmentItemID holding the question's assessment id until
// the question is made).
func chefFiles(ctx context.Context, nodes []ChefNode, stored Stored) ([][]*models.File, error) {
	out := make([][]*models.File, len(nodes))
	for i, cn := range nodes {
		add := func(cf ChefFile, question *models.ID) error {
			checksum, ext, ok := strings.Cut(cf.Filename, ".")
			if !ok || !models.IsChecksum(checksum) || ext == "" {
				return badField("files", "%q is not a file name <md5>.<extension>", cf.Filename)
			}
			p, ok := models.PresetByID(cf.Preset)
			if !ok {
				return badField("files", "%q is not a format preset", cf.Preset)
			}
			if !slices.Contains(p.AllowedFormats, ext) {
				return badField("files", "preset %s takes %v, not %s", p.ID, p.AllowedFormats, ext)
			}
			have, err := stored(ctx, checksum, ext)
			if err != nil {
				return err
			}
			if !have {
				return models.Errorf(models.CodeNotFound, "file %s is not stored: upload it first (upload_url)", cf.Filename)
			}
			lang := cf.Language
			if lang != "" {
				l, err := models.LanguageByCode(lang)
				if err != nil {
					return badField("files", "%v", err)
				}
				lang = l.ID
			}
			id := cf.ID
			if id.IsZero() {
				id = models.NewID()
			}
			out[i] = append(out[i], &models.File{ID: id, AssessmentItemID: question, Checksum: checksum, Size: cf.Size,
				Extension: ext, PresetID: p.ID, LanguageCode: lang, Duration: cf.Duration, OriginalFilename: cf.OriginalFilename,
				SourceURL: cf.SourceURL})
			return nil
		}
		for _, cf := range cn.Files {
			if err := add(cf, nil); err != nil {
				return nil, nodeError(i, cn, err)
			}
		}
		for _, q := range cn.Questions {
			for _, cf := range q.Files {
				if err := add(cf, &q.AssessmentID); err != nil {
					return nil, nodeError(i, cn, err)
				}
			}
		}
	}
	return out, nil
}

// nodeError names the node an error is about.
func nodeError(i int, cn ChefNode, err error) error {
	return models.Errorf(models.CodeOf(err), "node %d (%s, %q): %s", i, cn.NodeID, cn.Title, err.Error())
}

// chefError is the one error of a refused chef call.
func chefError(res *Result, err error) error {
	switch {
	case errors.Is(err, errRollback):
		return atomicError(res, len(res.Errors))
	case err != nil:
		return err
	case res != nil && len(res.Disallowed) > 0:
		ce := res.Disallowed[0]
		return models.Errorf(ce.Code, "%s", ce.Message)
	}
	return nil
}

// FinishChefTree ends channelID's upload: with stage false the uploaded
// tree becomes the main tree at once; with stage true it becomes the
// staging tree, for editors to review and deploy. The tree it replaces goes
// to the garbage.
func (d *DB) FinishChefTree(ctx context.Context, u *models.User, channelID models.ID, stage bool) (*models.Channel, error) {
	return d.finishChefTree(ctx, u, channelID, stage, nil)
}

// finishChefTree is FinishChefTree, running also (if set) in its
// transaction once the trees are swapped.
func (d *DB) finishChefTree(ctx context.Context, u *models.User, channelID models.ID, stage bool, also func(ctx context.Context, a *applier, ch *models.Channel) error) (*models.Channel, error) {
	return d.swapTree(ctx, u, channelID, also, func(ch *models.Channel) (models.ID, *models.ID, error) {
		if ch.ChefRootID == nil {
			return models.ID{}, nil, models.Errorf(models.CodeBadUserInput, "channel %s has no upload to finish: create_channel first", ch.ID)
		}
		chef := *ch.ChefRootID
		ch.ChefRootID = nil
		if !stage {
			return chef, nil, nil
		}
		old := ch.StagingRootID
		ch.StagingRootID = &chef
		return models.ID{}, old, nil
	})
}

// DeployStagingTree makes channelID's staging tree its main tree; the main
// tree it replaces goes to the garbage.
func (d *DB) DeployStagingTree(ctx context.Context, u *models.User, channelID models.ID) (*models.Channel, error) {
	return d.swapTree(ctx, u, channelID, nil, func(ch *models.Channel) (models.ID, *models.ID, error) {
		if ch.StagingRootID == nil {
			return models.ID{}, nil, models.Errorf(models.CodeBadUserInput, "channel %s has no staging tree to deploy", ch.ID)
		}
		staged := *ch.StagingRootID
		ch.StagingRootID = nil
		return staged, nil, nil
	})
}

// swapTree changes channelID's trees, for u, who must edit it: swap moves
// its chef and staging roots, and returns the root of the new main tree
// (zero: the main tree stays) and a tree it replaced, if any. Replaced
// trees, the old main one included, go to the garbage. also, if set, runs
// last in the same transaction.
func (d *DB) swapTree(ctx context.Context, u *models.User, channelID models.ID, also func(ctx context.Context, a *applier, ch *models.Channel) error,
	swap func(ch *models.Channel) (newMain models.ID, replaced *models.ID, err error)) (*models.Channel, error) {
	if u == nil {
		return nil, models.Errorf(models.CodeUnauthenticated, "sign in to change a channel")
	}
	var ch *models.Channel
	_, err := d.write(ctx, u, true, func(ctx context.Context, a *applier) (*Result, error) {
		ca, err := a.editChannel(ctx, channelID)
		if err != nil {
			return nil, unwrapDisallowed(err)
		}
		ch = ca.Channel
		newMain, replaced, err := swap(ch)
		if err != nil {
			return nil, err
		}
		mods := map[string]any{"chef_root_id": ch.ChefRootID, "staging_root_id": ch.StagingRootID}
		if !newMain.IsZero() {
			old := ch.RootID
			replaced, ch.RootID = &old, newMain
			mods["root_id"] = newMain
			// The main root carries the channel's name.
			if _, err := a.tx.NewUpdate().Model((*models.ContentNode)(nil)).Set("title = ?", ch.Name).
				Where("id = ?", newMain).Exec(ctx); err != nil {
				return nil, fmt.Errorf("db: swap tree: %w", err)
			}
		}
		if replaced != nil {
			if err := a.discardTree(ctx, ch.ID, *replaced); err != nil {
				return nil, err
			}
		}
		ch.ModifiedAt = a.now
		if err := a.saveChannelTrees(ctx, ch, mods); err != nil {
			return nil, err
		}
		if also != nil {
			if err := also(ctx, a, ch); err != nil {
				return nil, err
			}
		}
		return &Result{}, nil
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}
