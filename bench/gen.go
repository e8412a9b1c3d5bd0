// Package bench generates realistic channels and runs studio's standard
// workload against a server over HTTP, side by side with what the machine
// can do at best (a primary-key SELECT, an empty GraphQL request).
package bench

import (
	"context"
	"fmt"
	"time"

	"studio/db"
	"studio/models"
)

// Shape is a generated channel: the ids the workload needs.
type Shape struct {
	Channel *models.Channel
	Nodes   int
	// Topics at each depth below the root: Topics[0] are the root's children.
	Topics [3][]models.ID
	// Resources are some leaf nodes, for updates and moves.
	Resources []models.ID
	// Scratch topics take what the write operations create, copy and move.
	ScratchA, ScratchB models.ID
}

// Generate writes a channel of about n nodes shaped like a large Kolibri
// channel: five levels (the root, three levels of topics with ten children
// each, then resources, nine a topic: five videos, two documents, an audio
// file and an exercise with ten questions and a mastery model); two files a
// resource (its main file and a thumbnail). Rows go in in bulk, not
// through the API: this is the fixture, not the measure.
func Generate(ctx context.Context, d *db.DB, owner *models.User, name string, n int) (*Shape, error) {
	lang := "en"
	ch, err := d.CreateChannel(ctx, owner, models.ID{}, db.ChannelInput{Name: &name, Language: &lang})
	if err != nil {
		return nil, err
	}
	root := &models.ContentNode{ID: ch.RootID, ChannelID: ch.ID, RootID: ch.RootID}
	g := &generator{now: time.Now().UTC().Truncate(time.Microsecond), shape: &Shape{Channel: ch}}
	perTop := 1 + 10 + 100 + 900 // a top topic with everything below it
	tops := max(1, (n+perTop/2)/perTop)
	for i := range tops {
		t1 := g.node(root, models.KindTopic, fmt.Sprintf("Unit %d", i+1))
		g.shape.Topics[0] = append(g.shape.Topics[0], t1.ID)
		for j := range 10 {
			t2 := g.node(t1, models.KindTopic, fmt.Sprintf("Lesson %d.%d", i+1, j+1))
			g.shape.Topics[1] = append(g.shape.Topics[1], t2.ID)
			for k := range 10 {
				t3 := g.node(t2, models.KindTopic, fmt.Sprintf("Part %d.%d.%d", i+1, j+1, k+1))
				g.shape.Topics[2] = append(g.shape.Topics[2], t3.ID)
				for r := range 9 {
					g.resource(t3, r, fmt.Sprintf("Resource %d.%d.%d.%d", i+1, j+1, k+1, r+1))
				}
			}
		}
	}
	a := g.node(root, models.KindTopic, "Scratch A")
	b := g.node(root, models.KindTopic, "Scratch B")
	g.shape.ScratchA, g.shape.ScratchB = a.ID, b.ID
	g.shape.Nodes = len(g.nodes) + 1
	if err := d.Load(ctx, db.Rows{Nodes: g.nodes, Files: g.files, Items: g.items}); err != nil {
		return nil, fmt.Errorf("bench: generate: %w", err)
	}
	return g.shape, nil
}

type generator struct {
	now   time.Time
	shape *Shape
	nodes []*models.ContentNode
	files []*models.File
	items []*models.AssessmentItem
	order map[models.ID]float64
}

func (g *generator) node(parent *models.ContentNode, kind, title string) *models.ContentNode {
	if g.order == nil {
		g.order = map[models.ID]float64{}
	}
	g.order[parent.ID]++
	n := &models.ContentNode{ID: models.NewID(), ChannelID: parent.ChannelID, RootID: parent.RootID, ParentID: &parent.ID,
		SortOrder: g.order[parent.ID], NodeID: models.NewID(), ContentID: models.NewID(), Kind: kind, Title: title,
		Complete: true, Changed: true, CreatedAt: g.now, ModifiedAt: g.now}
	g.nodes = append(g.nodes, n)
	return n
}

// resourceKinds are the kinds of a topic's nine resources, in order.
var resourceKinds = []string{models.KindVideo, models.KindVideo, models.KindDocument, models.KindVideo,
	models.KindAudio, models.KindVideo, models.KindDocument, models.KindVideo, models.KindExercise}

func (g *generator) resource(parent *models.ContentNode, r int, title string) {
	kind := resourceKinds[r]
	n := g.node(parent, kind, title)
	n.LicenseName, n.CopyrightHolder, n.Author = "CC BY", "Bench", "studio bench"
	n.Description = "A generated resource of the benchmark channel, with a description of ordinary length."
	if len(g.shape.Resources) < 2000 {
		g.shape.Resources = append(g.shape.Resources, n.ID)
	}
	main := map[string][2]string{models.KindVideo: {"high_res_video", "mp4"}, models.KindDocument: {"document", "pdf"},
		models.KindAudio: {"audio", "mp3"}, models.KindExercise: {"exercise", "perseus"}}[kind]
	var duration *int
	if kind == models.KindVideo || kind == models.KindAudio {
		d := 300
		duration = &d
	}
	for i, f := range [][2]string{main, {kind + "_thumbnail", "png"}} {
		g.files = append(g.files, &models.File{ID: models.NewID(), NodeID: &n.ID, Checksum: checksum(len(g.files)),
			Size: int64(1000 * (10 - 9*i)), Extension: f[1], PresetID: f[0], Duration: duration, CreatedAt: g.now, ModifiedAt: g.now})
		duration = nil
	}
	if kind != models.KindExercise {
		return
	}
	n.ExtraFields = map[string]any{"randomize": true, "options": map[string]any{"completion_criteria": map[string]any{
		"model": "mastery", "threshold": map[string]any{"mastery_model": "m_of_n", "m": 3.0, "n": 5.0}}}}
	for q := range 10 {
		g.items = append(g.items, &models.AssessmentItem{ID: models.NewID(), NodeID: n.ID, AssessmentID: models.NewID(),
			Type: "single_selection", Question: fmt.Sprintf("What is %d + %d?", q, q+1), Order: q + 1, Randomize: true,
			Answers: []any{map[string]any{"answer": fmt.Sprint(2*q + 1), "correct": true, "order": 1},
				map[string]any{"answer": fmt.Sprint(2 * q), "correct": false, "order": 2}},
			Hints: []any{map[string]any{"hint": "Count on your fingers.", "order": 1}}, CreatedAt: g.now, ModifiedAt: g.now})
	}
}

// checksum is a stand-in md5 for the i-th generated file: files are not
// read by the workload, only their rows.
func checksum(i int) string { return fmt.Sprintf("%032x", i+1) }
