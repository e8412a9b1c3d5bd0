// Package demo loads a small, complete channel into a new server (`studio
// serve --demo`), so that a newcomer has something to look at, edit, copy
// from and publish in their first hour.
//
// It writes through the same paths as the API: nodes, questions and the
// prerequisite are changes applied by db.Apply, as the typed mutations
// make them, and files go through blobs.Store and db.AddFile, as uploadFile
// does. So the demo also shows that those paths make a publishable channel.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"studio/blobs"
	"studio/db"
	"studio/models"
)

// Name is the demo channel's name; a server that has a channel of this name
// (deleted ones included) gets no other.
const Name = "Studio demo"

// FirstAdmin returns the oldest admin: on a new server, the one serve
// created on its first start.
func FirstAdmin(ctx context.Context, d *db.DB) (*models.User, error) {
	u, err := d.FirstAdmin(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: find the first admin: %w", err)
	}
	if u == nil {
		return nil, models.Errorf(models.CodeNotFound, "there is no admin to own the demo channel: create one with `studio user create --email E --password P --admin`")
	}
	return u, nil
}

// Load makes the demo channel, owned (edited) by owner, unless a channel
// named Name exists already; created says whether it made it now. Every
// node of the demo is complete, so that it publishes as it is.
//
// Deleting the demo does not bring it back (deleted channels count); rename
// it to get a fresh one. Two servers starting together on one new database
// may both make it: the check and the writes are separate transactions, as
// with the first admin.
func Load(ctx context.Context, d *db.DB, store *blobs.Store, owner *models.User) (ch *models.Channel, created bool, err error) {
	if owner == nil {
		return nil, false, fmt.Errorf("demo: no owner for the demo channel")
	}
	found, err := d.OldestChannelNamed(ctx, Name)
	if err != nil {
		return nil, false, fmt.Errorf("demo: look for the demo channel: %w", err)
	}
	if found != nil {
		return found, false, nil
	}

	name, lang := Name, "en"
	description := "A small channel made by `studio serve --demo`: topics, a video, an audio file, a document and an exercise. Look around, edit it, copy from it, publish it."
	tagline := "Everything studio can publish, in miniature"
	ch, err = d.CreateChannel(ctx, owner, models.ID{}, db.ChannelInput{Name: &name, Description: &description, Tagline: &tagline, Language: &lang})
	if err != nil {
		return nil, false, fmt.Errorf("demo: create the channel: %w", err)
	}

	// The tree, with ids chosen here so that later changes can name nodes.
	watch, read, practice := models.NewID(), models.NewID(), models.NewID()
	video, audio, document, exercise := models.NewID(), models.NewID(), models.NewID(), models.NewID()
	changes := []db.Change{
		topic(watch, ch.RootID, "Watch and listen", "A video and an audio file."),
		topic(read, ch.RootID, "Read", "A one-page document."),
		topic(practice, ch.RootID, "Practice", "An exercise with three kinds of question."),
		resource(video, watch, models.KindVideo, "Counting to three", "Three seconds, one more dot each second.", nil),
		resource(audio, watch, models.KindAudio, "A moment of quiet", "Two seconds of silence: an audio file studio made itself.", nil),
		resource(document, read, models.KindDocument, "Numbers up to ten", "A one-page PDF.", nil),
		resource(exercise, practice, models.KindExercise, "Count and add", "Answer all three questions correctly to finish.",
			map[string]any{"extra_fields": map[string]any{"randomize": true, "options": map[string]any{"completion_criteria": map[string]any{
				"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}}}}),
		question(exercise, 1, "single_selection", "How many dots does the video show at its end?",
			[]any{answer("2", false, 1), answer("3", true, 2), answer("4", false, 3)},
			[]any{map[string]any{"hint": "Watch the video again: one more dot appears each second.", "order": 1}}),
		question(exercise, 2, "multiple_selection", "Which of these numbers are even?",
			[]any{answer("2", true, 1), answer("3", false, 2), answer("4", true, 3), answer("7", false, 4)},
			[]any{map[string]any{"hint": "An even number is two times a whole number.", "order": 1}}),
		question(exercise, 3, "input_question", "What is 3 + 4?", []any{answer("7", true, 1)}, nil),
		// A learner should watch the video before the exercise.
		{Type: models.ChangeCreated, Table: db.TablePrerequisite, Key: []models.ID{exercise, video}},
	}
	if _, err := d.Apply(ctx, owner, changes, true); err != nil {
		return nil, false, fmt.Errorf("demo: create the nodes: %w", err)
	}

	secs := func(n int) *int { return &n }
	files := []struct {
		node     models.ID
		preset   string
		name     string
		data     []byte
		duration *int
	}{
		{video, "high_res_video", "counting.mp4", Video(), secs(VideoSeconds)},
		{video, "video_thumbnail", "counting.png", Thumbnail(), nil},
		{audio, "audio", "quiet.mp3", Audio(), secs(AudioSeconds)},
		{document, "document", "numbers.pdf", PDF("Numbers up to ten", pdfLines), nil},
	}
	for _, f := range files {
		if err := addFile(ctx, d, store, owner, f.node, f.preset, f.name, f.data, f.duration); err != nil {
			return nil, false, fmt.Errorf("demo: upload %s: %w", f.name, err)
		}
	}

	// The demo must publish: a node left incomplete is a bug in studio's
	// rules or in this package, and saying which node and why finds it.
	tree, err := d.LoadTree(ctx, ch.RootID)
	if err != nil {
		return nil, false, err
	}
	for _, n := range tree.Nodes {
		if !n.Complete {
			why := models.CompletenessErrors(n, n.ParentID == nil, tree.Files[n.ID], tree.Items[n.ID])
			return nil, false, fmt.Errorf("demo: node %q is not complete: %s", n.Title, strings.Join(why, "; "))
		}
	}
	return ch, true, nil
}

// pdfLines is the document's text.
var pdfLines = []string{
	"This page was made by studio, in Go, for its demo channel.",
	"",
	"1 one, 2 two, 3 three, 4 four, 5 five,",
	"6 six, 7 seven, 8 eight, 9 nine, 10 ten.",
	"",
	"Even numbers: 2, 4, 6, 8, 10. Odd numbers: 1, 3, 5, 7, 9.",
	"",
	"Replace this file: upload another PDF to the node with uploadFile",
	"(preset document), and publish the channel again.",
}

func topic(id, parent models.ID, title, description string) db.Change {
	return db.Change{Type: models.ChangeCreated, Table: db.TableContentNode, Key: id, Obj: map[string]any{
		"parent": parent, "kind": models.KindTopic, "title": title, "description": description}}
}

// resource is a node with what completeness asks of every resource: a
// title and a license with its copyright holder (its file comes later).
func resource(id, parent models.ID, kind, title, description string, more map[string]any) db.Change {
	obj := map[string]any{"parent": parent, "kind": kind, "title": title, "description": description,
		"license": "CC BY", "copyright_holder": "The studio authors", "author": "studio", "language": "en",
		"tags": map[string]any{"demo": true}}
	for k, v := range more {
		obj[k] = v
	}
	return db.Change{Type: models.ChangeCreated, Table: db.TableContentNode, Key: id, Obj: obj}
}

func question(node models.ID, order int, typ, text string, answers, hints []any) db.Change {
	obj := map[string]any{"type": typ, "question": text, "answers": answers, "order": order}
	if hints != nil {
		obj["hints"] = hints
	}
	return db.Change{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{node, models.NewID()}, Obj: obj}
}

func answer(text string, correct bool, order int) map[string]any {
	return map[string]any{"answer": text, "correct": correct, "order": order}
}

// addFile stores data as uploadFile stores an upload: spooled while its
// md5 is computed, recorded by AddFile (which checks the preset against the
// node and attaches the file), and kept in the store once accepted.
func addFile(ctx context.Context, d *db.DB, store *blobs.Store, owner *models.User, node models.ID, preset, name string, data []byte, duration *int) error {
	ext := name[strings.LastIndexByte(name, '.')+1:]
	p, ok := models.PresetByID(preset)
	if !ok || !p.Allows(ext) {
		return fmt.Errorf("preset %s does not take .%s files", preset, ext)
	}
	sp, err := store.Spool(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	defer sp.Remove()
	f := &models.File{ID: models.NewID(), NodeID: &node, Checksum: sp.Checksum, Size: sp.Size, Extension: ext,
		PresetID: p.ID, Duration: duration, OriginalFilename: name}
	return d.AddFile(ctx, owner, f, func() error {
		format, _ := models.FileFormatByExtension(ext)
		return store.Store(ctx, blobs.Key(f.Checksum, ext), sp, format.MIMEType)
	})
}
