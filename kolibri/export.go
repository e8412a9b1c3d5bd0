package kolibri

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"studio/db"
	"studio/models"
)

// Stats describe what an export put in the database, for the channel's
// published fields.
type Stats struct {
	Resources int            // nodes that are not topics
	KindCount map[string]int // nodes by kind, topics included
	Size      int64          // distinct files' bytes
	Languages []string
	// Archives are the exercise archives Options.Archive made, by node.
	Archives map[models.ID]*models.File
}

// Options say how to export.
type Options struct {
	// Version is the channel metadata's version (0 for a draft).
	Version int
	// Archive makes (and stores) the archive Kolibri renders an exercise
	// from (preset "exercise"); nil exports exercises without one.
	Archive func(n *models.ContentNode, items []*models.AssessmentItem) (*models.File, error)
	// Progress, if set, is told how many of the nodes are written, now and then.
	Progress func(done, total int)
}

// Export writes channel's tree t (its main tree) as Kolibri's content
// database at path (which must not exist). Only complete nodes whose
// ancestors are complete go in; exercises need a mastery model; topics with
// no resource below them are left out. In a channel a chef uploaded
// (ricecooker_version set), resources inherit their ancestors' language and
// labels, as Studio's publish does (inheritance.go).
func Export(ctx context.Context, ch *models.Channel, t *db.Tree, opts Options, path string) (*Stats, error) {
	if ch.LanguageCode == "" {
		return nil, models.Errorf(models.CodeBadUserInput, "channel %s has no language; set one before publishing", ch.ID)
	}
	nodes, children := publishable(t)
	if len(nodes) <= 1 {
		return nil, models.Errorf(models.CodeBadUserInput, "channel %s has nothing to publish: its main tree has no complete resource (a resource needs a title, a license and its files; an exercise, questions and a mastery model; every topic above it, a title)", ch.ID)
	}
	w, err := Create(ctx, path)
	if err != nil {
		return nil, err
	}
	stats, err := write(ctx, w, ch, opts, t, nodes, children)
	if err != nil {
		w.Abort()
		_ = os.Remove(path)
		return nil, err
	}
	if err := w.Close(ctx); err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	return stats, nil
}

// publishable picks the nodes that go in, parents first, and each kept
// node's kept children in order.
func publishable(t *db.Tree) ([]*models.ContentNode, map[models.ID][]models.ID) {
	kept := map[models.ID]bool{}
	var order []*models.ContentNode
	for i, n := range t.Nodes {
		ok := i == 0 || (n.ParentID != nil && kept[*n.ParentID] && n.Complete)
		if ok && n.Kind == models.KindExercise {
			_, ok = models.MasteryOf(n.ExtraFields)
		}
		if ok {
			kept[n.ID] = true
			order = append(order, n)
		}
	}
	// Topics without a resource below them are hidden: drop them, deepest first.
	hasResource := map[models.ID]bool{}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if n.Kind != models.KindTopic || hasResource[n.ID] {
			if n.ParentID != nil {
				hasResource[*n.ParentID] = true
			}
		}
	}
	var out []*models.ContentNode
	children := map[models.ID][]models.ID{}
	for i, n := range order {
		if i > 0 && n.Kind == models.KindTopic && !hasResource[n.ID] {
			delete(kept, n.ID)
			continue
		}
		if i > 0 && !kept[*n.ParentID] {
			delete(kept, n.ID)
			continue
		}
		out = append(out, n)
		if n.ParentID != nil {
			children[*n.ParentID] = append(children[*n.ParentID], n.ID)
		}
	}
	byID := make(map[models.ID]*models.ContentNode, len(out))
	for _, n := range out {
		byID[n.ID] = n
	}
	for _, ids := range children {
		sort.SliceStable(ids, func(a, b int) bool { return byID[ids[a]].SortOrder < byID[ids[b]].SortOrder })
	}
	return out, children
}

func write(ctx context.Context, w *Writer, ch *models.Channel, opts Options, t *db.Tree, nodes []*models.ContentNode, children map[models.ID][]models.ID) (*Stats, error) {
	root := nodes[0]
	nodeIDs := map[models.ID]string{} // studio id → Kolibri id (the node_id)
	for _, n := range nodes {
		nodeIDs[n.ID] = n.NodeID.String()
	}
	kidsByKolibriID := map[string][]string{}
	for parent, ids := range children {
		for _, id := range ids {
			kidsByKolibriID[nodeIDs[parent]] = append(kidsByKolibriID[nodeIDs[parent]], nodeIDs[id])
		}
	}
	nums := Number(nodeIDs[root.ID], kidsByKolibriID)
	// Rows go in in tree order (lft), as Studio's depth-first export writes
	// them, so that the numbered rows (tags, prerequisites) are numbered
	// alike by every publish of the same tree, whatever studio's own ids.
	nodes = slices.Clone(nodes)
	slices.SortFunc(nodes, func(a, b *models.ContentNode) int { return nums[nodeIDs[a.ID]].Lft - nums[nodeIDs[b.ID]].Lft })
	stats := &Stats{KindCount: map[string]int{}, Archives: map[models.ID]*models.File{}}
	step := max(len(nodes)/50, 1)
	langs := map[string]bool{}
	addLang := func(code string) error {
		if code == "" || langs[code] {
			return nil
		}
		langs[code] = true
		l := models.LanguageOf(code)
		base, sub, _ := strings.Cut(l.ID, "-")
		dir := "ltr"
		if l.RTL {
			dir = "rtl"
		}
		return w.Language(ctx, Language{ID: l.ID, Code: base, Subcode: sub, Name: l.NativeName, Direction: dir})
	}
	if err := addLang(ch.LanguageCode); err != nil {
		return nil, err
	}
	seenBlobs := map[string]bool{}
	inh := newInheritance(ch.RicecookerVersion != "")
	for i, n := range nodes {
		if opts.Progress != nil && i%step == 0 {
			opts.Progress(i, len(nodes))
		}
		kid := nodeIDs[n.ID]
		meta := inh.of(n)
		lang := meta.lang
		if lang == "" && n.Kind != models.KindTopic {
			lang = ch.LanguageCode
		}
		if err := addLang(lang); err != nil {
			return nil, err
		}
		options, _ := json.Marshal(optionsOf(n))
		row := Node{ID: kid, ContentID: n.ContentID.String(), ChannelID: ch.ID.String(), Title: n.Title,
			Description: n.Description, Kind: n.Kind, Author: n.Author, LicenseOwner: n.CopyrightHolder,
			CoachContent: n.RoleVisibility == models.RoleCoach, Available: true, SortOrder: n.SortOrder,
			Options: string(options), LangID: lang, Duration: durationOf(n, t.Files[n.ID]),
			GradeLevels: labels(meta.labels["grade_levels"]), ResourceTypes: labels(meta.labels["resource_types"]),
			Categories: labels(meta.labels["categories"]), LearnerNeeds: labels(meta.labels["learner_needs"])}
		if n.Kind != models.KindTopic {
			row.LearningActivities, row.AccessibilityLabels = labels(n.LearningActivities), labels(n.AccessibilityLabels)
		}
		if l, ok := models.LicenseByName(n.LicenseName); ok {
			row.LicenseName = l.Name
			if l.IsCustom {
				row.LicenseDescription = n.LicenseDescription
			}
		}
		if i == 0 {
			row.Title, row.Kind = ch.Name, models.KindTopic
		} else {
			row.ParentID = nodeIDs[*n.ParentID]
		}
		num := nums[kid]
		row.Lft, row.Rght, row.Level = num.Lft, num.Rght, num.Level
		if err := w.Node(ctx, row); err != nil {
			return nil, err
		}
		stats.KindCount[n.Kind]++
		if n.Kind != models.KindTopic {
			stats.Resources++
		}
		files := t.Files[n.ID]
		if n.Kind == models.KindExercise && opts.Archive != nil {
			a, err := opts.Archive(n, t.Items[n.ID])
			if err != nil {
				return nil, err
			}
			stats.Archives[n.ID] = a
			files = append(slices.DeleteFunc(slices.Clone(files), func(f *models.File) bool { return f.PresetID == models.KindExercise }), a)
		}
		for _, f := range files {
			if f.PresetID == "exercise_image" || f.PresetID == "exercise_graphie" {
				continue // these travel inside the exercise's archive
			}
			p, _ := models.PresetByID(f.PresetID)
			if err := addLang(f.LanguageCode); err != nil {
				return nil, err
			}
			if err := w.LocalFile(ctx, LocalFile{Checksum: f.Checksum, Extension: f.Extension, Size: f.Size}); err != nil {
				return nil, err
			}
			if !seenBlobs[f.Checksum] {
				seenBlobs[f.Checksum] = true
				stats.Size += f.Size
			}
			file := File{ID: f.ID.String(), NodeID: kid, Checksum: f.Checksum, Preset: p.ID, LangID: f.LanguageCode,
				Supplementary: p.Supplementary, Thumbnail: p.Thumbnail, Priority: p.Order}
			if !p.Supplementary {
				if i := slices.Index(models.RenderablePresetsOrder, p.ID); i >= 0 {
					bit := int64(1) << i
					file.IncludedPresets = &bit
				}
			}
			if err := w.File(ctx, file); err != nil {
				return nil, err
			}
		}
		for _, tag := range t.Tags[n.ID] {
			if len([]rune(tag)) > models.MaxTagLength {
				continue
			}
			sum := md5.Sum([]byte(tag)) // one id a tag name, shared across channels as Kolibri merges tags
			if err := w.Tag(ctx, kid, hex.EncodeToString(sum[:]), tag); err != nil {
				return nil, err
			}
		}
		if n.Kind == models.KindExercise {
			if err := w.AssessmentMetadata(ctx, assessmentMetadata(n, t.Items[n.ID], kid)); err != nil {
				return nil, err
			}
		}
	}
	var prereqs [][2]string
	for _, p := range t.Prerequisites {
		from, okFrom := nodeIDs[p.TargetNodeID]
		to, okTo := nodeIDs[p.PrerequisiteID]
		if okFrom && okTo {
			prereqs = append(prereqs, [2]string{from, to})
		}
	}
	slices.SortFunc(prereqs, func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
	for _, p := range prereqs {
		if err := w.Prerequisite(ctx, p[0], p[1]); err != nil {
			return nil, err
		}
	}
	for l := range langs {
		stats.Languages = append(stats.Languages, l)
	}
	sort.Strings(stats.Languages)
	return stats, w.ChannelMetadata(ctx, ChannelMetadata{ID: ch.ID.String(), Name: ch.Name, Description: ch.Description,
		Tagline: ch.Tagline, RootID: nodeIDs[root.ID], Version: opts.Version, Thumbnail: ch.ThumbnailDataURI()})
}

func optionsOf(n *models.ContentNode) map[string]any {
	if o, ok := n.ExtraFields["options"].(map[string]any); ok {
		return o
	}
	return map[string]any{}
}

// durationOf is a time-based completion threshold, else for audio and video
// their longest file's duration (Studio's rule).
func durationOf(n *models.ContentNode, files []*models.File) *int {
	if cc, ok := optionsOf(n)["completion_criteria"].(map[string]any); ok {
		if m, _ := cc["model"].(string); m == models.CompletionTime || m == models.CompletionApproxTime {
			if f, ok := cc["threshold"].(float64); ok {
				d := int(f)
				return &d
			}
		}
	}
	var longest *int
	if n.Kind == models.KindAudio || n.Kind == models.KindVideo {
		for _, f := range files {
			if f.Duration != nil && (longest == nil || *f.Duration > *longest) {
				longest = f.Duration
			}
		}
	}
	return longest
}

// labels joins a label map's ids, sorted; "" when there are none.
func labels(m map[string]any) string {
	var ids []string
	for id, on := range m {
		if on == true {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// ExerciseOf is an exercise's questions and mastery model in Kolibri's
// terms (reference §2.3): the stuff of its archive and its assessment metadata.
func ExerciseOf(n *models.ContentNode, items []*models.AssessmentItem) Exercise {
	model, _ := models.MasteryOf(n.ExtraFields)
	m, k := 0, 0
	switch model {
	case models.MasteryDoAll:
		m, k = len(items), len(items)
	case models.MasteryMOfN:
		m, k = thresholdInt(n, "m"), thresholdInt(n, "n")
	default:
		var x int
		if _, err := fmt.Sscanf(model, "num_correct_in_a_row_%d", &x); err == nil {
			m, k = x, x
		}
	}
	if k == 0 {
		k = max(min(5, len(items)), 1)
		m = k
	}
	randomize, ok := n.ExtraFields["randomize"].(bool)
	if !ok {
		randomize = true
	}
	return Exercise{MasteryModel: model, M: m, N: k, Randomize: randomize, Items: items}
}

// assessmentMetadata is an exercise's row of content_assessmentmetadata.
func assessmentMetadata(n *models.ContentNode, items []*models.AssessmentItem, kid string) AssessmentMetadata {
	ex := ExerciseOf(n, items)
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.AssessmentID.String()
	}
	idsJSON, _ := json.Marshal(ids)
	mastery, _ := json.Marshal(map[string]any{"type": ex.MasteryModel, "m": ex.M, "n": ex.N})
	sum := md5.Sum([]byte("assessment:" + kid))
	return AssessmentMetadata{ID: hex.EncodeToString(sum[:]), NodeID: kid, AssessmentIDs: string(idsJSON),
		Count: len(items), MasteryModel: string(mastery), Randomize: ex.Randomize}
}

func thresholdInt(n *models.ContentNode, key string) int {
	cc, _ := optionsOf(n)["completion_criteria"].(map[string]any)
	th, _ := cc["threshold"].(map[string]any)
	if f, ok := th[key].(float64); ok {
		return int(f)
	}
	if f, ok := n.ExtraFields[key].(float64); ok {
		return int(f)
	}
	return 0
}
