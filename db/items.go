package db

import (
	"context"
	"fmt"
	"sort"

	"studio/models"
)

// exerciseFor returns the exercise a question change is about, editable.
func (a *applier) exerciseFor(ctx context.Context, c Change) (*models.ContentNode, models.ID, error) {
	nodeID, assessmentID, err := keyPair(c.Key)
	if err != nil {
		return nil, assessmentID, err
	}
	n, err := a.editableNode(ctx, nodeID, c.ChannelID)
	if err != nil {
		return nil, assessmentID, err
	}
	a.outcomes[0].channel = n.ChannelID
	if n.Kind != models.KindExercise {
		return nil, assessmentID, badField("key", "node %s is a %s; only exercises have questions", n.ID, n.Kind)
	}
	return n, assessmentID, nil
}

// writeItem applies a CREATED or UPDATED assessmentitem change. The key is
// [node id, assessment id], as in Studio.
func (a *applier) writeItem(ctx context.Context, c Change) error {
	n, assessmentID, err := a.exerciseFor(ctx, c)
	if err != nil {
		return err
	}
	it := new(models.AssessmentItem)
	err = a.tx.NewSelect().Model(it).Where("ai.node_id = ? AND ai.assessment_id = ?", n.ID, assessmentID).Scan(ctx)
	exists := err == nil
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("db: load question: %w", err)
	}
	fields := c.Mods
	switch {
	case c.Type == models.ChangeCreated && exists:
		return models.Errorf(models.CodeConflict, "exercise %s already has question %s", n.ID, assessmentID)
	case c.Type == models.ChangeCreated:
		fields = c.Obj
		it = &models.AssessmentItem{ID: models.NewID(), NodeID: n.ID, AssessmentID: assessmentID,
			Type: models.QuestionMultipleSelection, Answers: []any{}, Hints: []any{}, Order: 1, CreatedAt: a.now}
	case !exists:
		return models.Errorf(models.CodeNotFound, "exercise %s has no question %s", n.ID, assessmentID)
	}
	if err := setItemFields(it, fields, c.Type == models.ChangeCreated); err != nil {
		return err
	}
	it.ModifiedAt = a.now
	if c.Type == models.ChangeCreated {
		_, err = a.tx.NewInsert().Model(it).Exec(ctx)
	} else {
		_, err = a.tx.NewUpdate().Model(it).WherePK().Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("db: write question: %w", err)
	}
	return a.contentChanged(ctx, n)
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

// deleteItem applies a DELETED assessmentitem change.
func (a *applier) deleteItem(ctx context.Context, c Change) error {
	n, assessmentID, err := a.exerciseFor(ctx, c)
	if err != nil {
		return err
	}
	res, err := a.tx.NewDelete().Model((*models.AssessmentItem)(nil)).
		Where("node_id = ? AND assessment_id = ?", n.ID, assessmentID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("db: delete question: %w", err)
	}
	if rows, _ := res.RowsAffected(); rows == 0 {
		return nil
	}
	return a.contentChanged(ctx, n)
}

// contentChanged follows a change to a node's questions (or files): the node
// is changed, its completeness recomputed, and a copy whose content now
// differs from its original's gets a content_id of its own (studio-backend.md §1.3).
func (a *applier) contentChanged(ctx context.Context, n *models.ContentNode) error {
	isCopy := n.OriginalSourceNodeID != nil && *n.OriginalSourceNodeID != n.NodeID
	if isCopy {
		shared, err := a.tx.NewSelect().Model((*models.ContentNode)(nil)).
			Where("content_id = ? AND id <> ?", n.ContentID, n.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("db: content id: %w", err)
		}
		if shared {
			n.ContentID = models.NewID()
			a.generate(0, TableContentNode, n.ID, map[string]any{"content_id": n.ContentID})
		}
	}
	return a.saveEdits(ctx, []*nodeEdit{{n: n, fieldsChanged: []string{"content"}}})
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
