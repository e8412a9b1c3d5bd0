package db

import (
	"context"
	"fmt"
	"sort"

	"studio/models"
)

// exerciseFor returns the exercise a question change (the k-th of its
// group) is about, editable.
func (a *applier) exerciseFor(ctx context.Context, k int, c Change) (*models.ContentNode, models.ID, error) {
	nodeID, assessmentID, err := keyPair(c.Key)
	if err != nil {
		return nil, assessmentID, err
	}
	n, err := a.editableNode(ctx, nodeID, c.ChannelID)
	if err != nil {
		return nil, assessmentID, err
	}
	a.outcomes[k].channel = n.ChannelID
	if n.Kind != models.KindExercise {
		return nil, assessmentID, badField("key", "node %s is a %s; only exercises have questions", n.ID, n.Kind)
	}
	return n, assessmentID, nil
}

func isItemChange(c Change) bool { return c.Table == TableAssessmentItem }

// itemKey is a question's key: its exercise and its assessment id.
type itemKey struct{ node, assessment models.ID }

// writeItems applies a run of assessmentitem changes, each of a different
// question: the exercises and the questions are read together, each change
// is checked on its own, the good ones are written together (an insert, an
// update, a delete), and the exercises' completeness follows in one go.
func (a *applier) writeItems(ctx context.Context, cs []Change) []error {
	errs := make([]error, len(cs))
	var nodes, assessments []models.ID
	for _, c := range cs {
		if n, id, err := keyPair(c.Key); err == nil {
			nodes, assessments = append(nodes, n), append(assessments, id)
		}
	}
	if err := a.lockChannels(ctx, nodes); err != nil {
		a.fatal = err
		return errs
	}
	existing := map[itemKey]*models.AssessmentItem{}
	if len(nodes) > 0 {
		var items []*models.AssessmentItem
		err := a.tx.NewSelect().Model(&items).
			Where("ai.node_id IN (?) AND ai.assessment_id IN (?)", list(nodes), list(assessments)).Scan(ctx)
		if err != nil {
			a.fatal = fmt.Errorf("db: load questions: %w", err)
			return errs
		}
		for _, it := range items {
			existing[itemKey{it.NodeID, it.AssessmentID}] = it
		}
	}
	var inserts, updates []*models.AssessmentItem
	var deletes []models.ID
	var changed []contentChange
	for k, c := range cs {
		n, it, err := a.checkItem(ctx, k, c, existing)
		if err != nil {
			errs[k] = a.classify(err)
			if a.fatal != nil {
				return errs
			}
			continue
		}
		switch {
		case it == nil: // deleting a question that is not there
			continue
		case c.Type == models.ChangeDeleted:
			deletes = append(deletes, it.ID)
		case c.Type == models.ChangeCreated:
			inserts = append(inserts, it)
		default:
			updates = append(updates, it)
		}
		changed = append(changed, contentChange{k: k, n: n, content: true})
	}
	err := a.saveItems(ctx, inserts, updates, deletes)
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

// checkItem checks one assessmentitem change (the k-th of its group) and
// returns its exercise and the question as it is to be written; nil for a
// delete of a question that does not exist (nothing to do).
func (a *applier) checkItem(ctx context.Context, k int, c Change, existing map[itemKey]*models.AssessmentItem) (*models.ContentNode, *models.AssessmentItem, error) {
	n, assessmentID, err := a.exerciseFor(ctx, k, c)
	if err != nil {
		return nil, nil, err
	}
	found, exists := existing[itemKey{n.ID, assessmentID}]
	switch c.Type {
	case models.ChangeDeleted:
		return n, found, nil
	case models.ChangeCreated, models.ChangeUpdated:
	default:
		return nil, nil, notAllowed(c)
	}
	fields := c.Mods
	var it *models.AssessmentItem
	switch {
	case c.Type == models.ChangeCreated && exists:
		return nil, nil, models.Errorf(models.CodeConflict, "exercise %s already has question %s", n.ID, assessmentID)
	case c.Type == models.ChangeCreated:
		fields = c.Obj
		it = &models.AssessmentItem{ID: models.NewID(), NodeID: n.ID, AssessmentID: assessmentID,
			Type: models.QuestionMultipleSelection, Answers: []any{}, Hints: []any{}, Order: 1, CreatedAt: a.now}
	case !exists:
		return nil, nil, models.Errorf(models.CodeNotFound, "exercise %s has no question %s", n.ID, assessmentID)
	default:
		cp := *found // a failed check leaves the question as it was
		it = &cp
	}
	if err := setItemFields(it, fields, c.Type == models.ChangeCreated); err != nil {
		return nil, nil, err
	}
	it.ModifiedAt = a.now
	return n, it, nil
}

// saveItems writes questions: new ones in one insert, changed ones in one
// update, gone ones in one delete (each in statements of at most 500 rows).
func (a *applier) saveItems(ctx context.Context, inserts, updates []*models.AssessmentItem, deletes []models.ID) error {
	for start := 0; start < len(inserts); start += 500 {
		batch := inserts[start:min(start+500, len(inserts))]
		if _, err := a.tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("db: write question: %w", err)
		}
	}
	for start := 0; start < len(updates); start += 500 {
		batch := updates[start:min(start+500, len(updates))]
		var err error
		if len(batch) == 1 {
			_, err = a.tx.NewUpdate().Model(batch[0]).WherePK().Exec(ctx)
		} else {
			_, err = a.tx.NewUpdate().Model(&batch).Bulk().Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("db: write question: %w", err)
		}
	}
	if len(deletes) > 0 {
		_, err := a.tx.NewDelete().Model((*models.AssessmentItem)(nil)).Where("id IN (?)", list(deletes)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("db: delete question: %w", err)
		}
	}
	return nil
}

// setItemFields applies an obj or mods to a question and checks it.
func setItemFields(it *models.AssessmentItem, fields map[string]any, creating bool) error {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fields[k]
		if !creating && it.Type == models.QuestionQTI && (k == "question" || k == "answers" || k == "hints") {
			return badField(k, "QTI questions are edited through raw_data")
		}
		var err error
		switch k {
		case "type":
			it.Type, err = stringValue(k, v)
			if err == nil && !models.IsAssessmentType(it.Type) {
				err = badField(k, "%q is not a question type; use one of %v", it.Type, models.AssessmentTypes)
			}
		case "question":
			it.Question, err = stringValue(k, v)
		case "raw_data":
			it.RawData, err = stringValue(k, v)
		case "source_url":
			it.SourceURL, err = stringValue(k, v)
		case "answers", "hints":
			l, ok := jsonList(v)
			if !ok {
				return badField(k, "must be a list, not %s", kindOf(v))
			}
			if _, err := models.NormalizeJSON(l); err != nil {
				return badField(k, "%v", err)
			}
			if k == "answers" {
				it.Answers = l
			} else {
				it.Hints = l
			}
		case "order":
			o, ok := intValue(v)
			if !ok || o < 0 {
				return badField(k, "must be a whole number, 0 or more")
			}
			it.Order = o
		case "randomize":
			b, ok := v.(bool)
			if !ok {
				return badField(k, "must be true or false")
			}
			it.Randomize = b
		case "id", "assessment_id", "contentnode", "deleted":
		default:
			return badField(k, "is not a field of a question")
		}
		if err != nil {
			return err
		}
	}
	if it.RawData != "" && it.Type != models.QuestionQTI && it.Type != models.QuestionPerseus {
		return badField("raw_data", "only perseus_question and qti questions have raw_data")
	}
	if err := models.ValidateAnswers(it.Type, it.Answers); err != nil {
		return badField("answers", "%v", err)
	}
	if err := models.ValidateHints(it.Hints); err != nil {
		return badField("hints", "%v", err)
	}
	return nil
}

// jsonList reads a JSON list; Studio's clients send answers and hints as
// lists, or as JSON text of a list.
func jsonList(v any) ([]any, bool) {
	switch l := v.(type) {
	case nil:
		return []any{}, true
	case []any:
		return l, true
	}
	return nil, false
}

// contentChange is a change (the k-th of its group) to a node's questions
// or files: content is false when only a thumbnail changed.
type contentChange struct {
	k       int
	n       *models.ContentNode
	content bool
}

// contentChangedAll follows changes to nodes' questions (or files): each
// node is changed, its completeness recomputed, and a copy whose content
// now differs from its original's gets a content_id of its own
// (studio-backend.md §1.3), announced by the first change that made it.
// A thumbnail changes only the node's flags (§6 item 28). The nodes are
// read and written together.
func (a *applier) contentChangedAll(ctx context.Context, cs []contentChange) error {
	if len(cs) == 0 {
		return nil
	}
	var copies []models.ID
	for _, c := range cs {
		n := c.n
		if c.content && n.OriginalSourceNodeID != nil && *n.OriginalSourceNodeID != n.NodeID {
			copies = append(copies, n.ContentID)
		}
	}
	// Which content ids other nodes share.
	var rows []struct {
		ID        models.ID `bun:"id"`
		ContentID models.ID `bun:"content_id"`
	}
	if len(copies) > 0 {
		err := a.tx.NewSelect().Model((*models.ContentNode)(nil)).Column("id", "content_id").
			Where("content_id IN (?)", list(copies)).Scan(ctx, &rows)
		if err != nil {
			return fmt.Errorf("db: content id: %w", err)
		}
	}
	holders := map[models.ID][]models.ID{}
	for _, r := range rows {
		holders[r.ContentID] = append(holders[r.ContentID], r.ID)
	}
	shared := func(n *models.ContentNode) bool {
		for _, id := range holders[n.ContentID] {
			if id != n.ID {
				return true
			}
		}
		return false
	}
	seen := map[models.ID]bool{}
	var es []*nodeEdit
	for _, c := range cs {
		n := c.n
		isCopy := n.OriginalSourceNodeID != nil && *n.OriginalSourceNodeID != n.NodeID
		if c.content && isCopy && shared(n) {
			// The node leaves the content id it shared, as if each change
			// were applied on its own: the next holder may keep it alone.
			var rest []models.ID
			for _, id := range holders[n.ContentID] {
				if id != n.ID {
					rest = append(rest, id)
				}
			}
			holders[n.ContentID] = rest
			n.ContentID = models.NewID()
			a.generate(c.k, TableContentNode, n.ID, map[string]any{"content_id": n.ContentID})
		}
		if !seen[n.ID] {
			seen[n.ID] = true
			field := "files"
			if c.content {
				field = "content"
			}
			es = append(es, &nodeEdit{n: n, fieldsChanged: []string{field}})
		}
	}
	return a.saveEdits(ctx, es)
}

// addPrerequisite applies a CREATED contentnode_prerequisite change, key
// [target node, prerequisite]: a learner should finish the prerequisite first.
func (a *applier) addPrerequisite(ctx context.Context, c Change) error {
	target, pre, err := a.prerequisitePair(ctx, c)
	if err != nil {
		return err
	}
	if target.ID == pre.ID {
		return badField("key", "a node cannot be its own prerequisite")
	}
	if target.RootID != pre.RootID {
		return badField("key", "a prerequisite must be in the same tree as its node")
	}
	reciprocal, err := a.tx.NewSelect().Model((*models.Prerequisite)(nil)).
		Where("target_node_id = ? AND prerequisite_id = ?", pre.ID, target.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("db: prerequisites: %w", err)
	}
	if reciprocal {
		return badField("key", "%s is already a prerequisite of %s; two nodes cannot each come first", target.ID, pre.ID)
	}
	p := &models.Prerequisite{TargetNodeID: target.ID, PrerequisiteID: pre.ID}
	if _, err := a.tx.NewInsert().Model(p).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("db: add prerequisite: %w", err)
	}
	return a.markChanged(ctx, target.ID)
}

// removePrerequisite applies a DELETED contentnode_prerequisite change.
func (a *applier) removePrerequisite(ctx context.Context, c Change) error {
	target, pre, err := a.prerequisitePair(ctx, c)
	if err != nil {
		return err
	}
	_, err = a.tx.NewDelete().Model((*models.Prerequisite)(nil)).
		Where("target_node_id = ? AND prerequisite_id = ?", target.ID, pre.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("db: remove prerequisite: %w", err)
	}
	return a.markChanged(ctx, target.ID)
}

func (a *applier) prerequisitePair(ctx context.Context, c Change) (*models.ContentNode, *models.ContentNode, error) {
	targetID, preID, err := keyPair(c.Key)
	if err != nil {
		return nil, nil, err
	}
	target, err := a.editableNode(ctx, targetID, c.ChannelID)
	if err != nil {
		return nil, nil, err
	}
	a.outcomes[0].channel = target.ChannelID
	pre, err := a.editableNode(ctx, preID, nil)
	if err != nil {
		return nil, nil, err
	}
	return target, pre, nil
}
