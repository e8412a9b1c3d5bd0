package kolibri

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"studio/db"
	"studio/models"
)

// What a content database's rows become in studio: the inverse of
// export.go, so that publishing the result writes the rows again. A value
// studio would refuse (an unknown language, label or license, text over a
// limit) is left out or shortened, and said in the warnings.

// Mapper turns a Source's rows into a chef's channel and nodes.
type Mapper struct {
	Src *Source
	// Warnings collect what was left out or changed.
	Warnings []string
}

func (m *Mapper) warn(format string, args ...any) {
	if len(m.Warnings) < 200 {
		m.Warnings = append(m.Warnings, fmt.Sprintf(format, args...))
	}
}

// Language is the channel's language: lookup's (what the server says, ""
// if it said nothing), else the root's, else the first content_language
// row (Studio and studio write the channel's language first).
func (m *Mapper) Language(lookup string) string {
	for _, code := range []string{lookup, m.Src.Nodes[0].LangID} {
		if l, err := models.LanguageByCode(code); code != "" && err == nil {
			return l.ID
		}
	}
	for _, l := range m.Src.Languages {
		if got, err := models.LanguageByCode(l.ID); err == nil {
			return got.ID
		}
	}
	return ""
}

// Channel is the chef's channel the source makes, with id and language.
func (m *Mapper) Channel(id models.ID, language string) db.ChefChannel {
	c := m.Src.Channel
	ch := db.ChefChannel{ID: id, Name: m.text("channel name", c.Name, 200), Description: m.text("channel description", c.Description, 400),
		Tagline: m.text("channel tagline", c.Tagline, 150), Language: language}
	if strings.HasPrefix(c.Thumbnail, "data:image/") {
		ch.ThumbnailEncoding = map[string]any{"base64": c.Thumbnail}
	} else if c.Thumbnail != "" {
		m.warn("the channel's thumbnail is not a data:image/ URI: left out")
	}
	if strings.TrimSpace(ch.Name) == "" {
		ch.Name = m.Src.Nodes[0].Title
	}
	if strings.TrimSpace(ch.Name) == "" {
		ch.Name = "Channel " + id.String()
	}
	root := m.Node(m.Src.Nodes[0], nil)
	ch.Root = &root
	return ch
}

// text shortens s to limit characters, saying so.
func (m *Mapper) text(what, s string, limit int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	m.warn("%s is longer than %d characters: shortened", what, limit)
	return string([]rune(s)[:limit])
}

// nodeLimit is a node text field's limit.
func nodeLimit(column string) int {
	if f := models.NodeFieldByColumn(column); f != nil && f.Limit > 0 {
		return f.Limit
	}
	return 100000
}

// Known says whether a node's kind is one studio knows; a node of another
// kind is left out with what is below it.
func (m *Mapper) Known(n *SourceNode) bool {
	if models.IsKind(n.Kind) {
		return true
	}
	m.warn("node %s (%q) is of kind %q, which studio does not know: left out, with what is below it", n.ID, n.Title, n.Kind)
	return false
}

// labelColumns are the label columns in Node's order, by studio field.
var labelColumns = []struct {
	field string
	of    func(n *Node) string
}{
	{"grade_levels", func(n *Node) string { return n.GradeLevels }},
	{"resource_types", func(n *Node) string { return n.ResourceTypes }},
	{"learning_activities", func(n *Node) string { return n.LearningActivities }},
	{"accessibility_labels", func(n *Node) string { return n.AccessibilityLabels }},
	{"categories", func(n *Node) string { return n.Categories }},
	{"learner_needs", func(n *Node) string { return n.LearnerNeeds }},
}

// Node is the chef's node a source node makes (its questions excepted:
// see Questions); sortOrder, if set, is kept.
func (m *Mapper) Node(n *SourceNode, sortOrder *float64) db.ChefNode {
	nodeID, _ := models.ParseID(n.ID)
	contentID, _ := models.ParseID(n.ContentID)
	channelID, _ := models.ParseID(m.Src.Channel.ID)
	what := func(field string) string { return fmt.Sprintf("node %s: %s", n.ID, field) }
	cn := db.ChefNode{NodeID: nodeID, ContentID: contentID, Kind: n.Kind,
		Title:              m.text(what("title"), n.Title, nodeLimit("title")),
		Description:        m.text(what("description"), n.Description, nodeLimit("description")),
		Author:             m.text(what("author"), n.Author, nodeLimit("author")),
		CopyrightHolder:    m.text(what("license_owner"), n.LicenseOwner, nodeLimit("copyright_holder")),
		LicenseDescription: m.text(what("license_description"), n.LicenseDescription, nodeLimit("license_description")),
		SortOrder:          sortOrder, Origin: &db.ChefOrigin{ChannelID: channelID, NodeID: nodeID},
		Labels: map[string][]string{}}
	if n.Level == 0 {
		cn.Kind = models.KindTopic
	}
	if n.LicenseName != "" {
		if l, ok := models.LicenseByName(n.LicenseName); ok {
			cn.License = l.Name
		} else {
			m.warn("%s: license %q is not one le-utils lists: left out", what("license_name"), n.LicenseName)
		}
	}
	if n.LangID != "" {
		if l, err := models.LanguageByCode(n.LangID); err == nil {
			cn.Language = l.ID
		} else {
			m.warn("%s: language %q is not one le-utils lists: left out", what("lang_id"), n.LangID)
		}
	}
	if n.CoachContent {
		cn.Role = models.RoleCoach
	}
	if n.Duration != nil && *n.Duration >= 0 {
		d := *n.Duration
		cn.SuggestedDuration = &d
	}
	for _, lc := range labelColumns {
		for _, id := range strings.Split(lc.of(&n.Node), ",") {
			if id = strings.TrimSpace(id); id == "" || slices.Contains(cn.Labels[lc.field], id) {
				continue
			}
			if err := models.ValidateLabel(lc.field, id); err != nil {
				m.warn("%s: %v: left out", what(lc.field), err)
				continue
			}
			cn.Labels[lc.field] = append(cn.Labels[lc.field], id)
		}
	}
	for _, t := range n.Tags {
		if models.ValidateTag(t) != nil || len(cn.Tags) >= models.MaxTags {
			m.warn("%s: tag %q: left out", what("tags"), t)
			continue
		}
		if t = strings.TrimSpace(t); !slices.Contains(cn.Tags, t) {
			cn.Tags = append(cn.Tags, t)
		}
	}
	cn.ExtraFields = m.extraFields(n, what)
	cn.Files = m.files(n, what)
	return cn
}

// extraFields are options (extra_fields.options) and, for an exercise, its
// mastery model and randomize as Studio keeps them.
func (m *Mapper) extraFields(n *SourceNode, what func(string) string) map[string]any {
	extra := map[string]any{}
	var options map[string]any
	if strings.TrimSpace(n.Options) != "" {
		if err := json.Unmarshal([]byte(n.Options), &options); err != nil {
			m.warn("%s: not a JSON object: left out", what("options"))
		}
	}
	if cc, ok := options["completion_criteria"].(map[string]any); ok {
		models.NormalizeCompletionCriteria(cc)
		if err := models.ValidateCompletionCriteria(n.Kind, cc, false); err != nil {
			m.warn("%s: %v: left out", what("options.completion_criteria"), err)
			delete(options, "completion_criteria")
		}
	} else if options["completion_criteria"] != nil {
		m.warn("%s: not an object: left out", what("options.completion_criteria"))
		delete(options, "completion_criteria")
	}
	if len(options) > 0 {
		extra["options"] = options
	}
	if a := n.Assessment; a != nil && n.Kind == models.KindExercise {
		extra["randomize"] = a.Randomize
		model, mm, nn := a.Mastery()
		if _, ok := models.MasteryOf(extra); !ok && model != "" {
			extra["mastery_model"] = model // Studio's legacy place, for a file without completion criteria
		}
		if model == models.MasteryMOfN && mm > 0 && nn > 0 {
			extra["m"], extra["n"] = float64(mm), float64(nn)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	return extra
}

// files are the node's files as the chef names them: by stored blob. The
// main files of audio and video carry the node's duration, which publishing
// takes from them.
func (m *Mapper) files(n *SourceNode, what func(string) string) []db.ChefFile {
	var out []db.ChefFile
	for _, f := range n.Files {
		p, ok := models.PresetByID(f.Preset)
		switch {
		case !ok:
			m.warn("%s: file %s has preset %q, which le-utils does not list: left out", what("files"), f.Filename(), f.Preset)
			continue
		case !slices.Contains(p.AllowedFormats, f.Extension):
			m.warn("%s: file %s: preset %s takes %v, not %s: left out", what("files"), f.Filename(), p.ID, p.AllowedFormats, f.Extension)
			continue
		case p.Kind != "" && p.Kind != n.Kind && n.Level > 0:
			m.warn("%s: file %s: preset %s is for %s nodes, not %s: left out", what("files"), f.Filename(), p.ID, p.Kind, n.Kind)
			continue
		case n.Level == 0:
			continue // a root's files are not published
		}
		id, _ := models.ParseID(f.ID)
		cf := db.ChefFile{ID: id, Filename: f.Filename(), Preset: p.ID, Size: max(f.Size, 0)}
		if f.LangID != "" {
			if l, err := models.LanguageByCode(f.LangID); err == nil {
				cf.Language = l.ID
			} else {
				m.warn("%s: file %s: language %q is not one le-utils lists: left out", what("files"), f.Filename(), f.LangID)
			}
		}
		if (n.Kind == models.KindAudio || n.Kind == models.KindVideo) && !p.Supplementary && n.Duration != nil {
			d := *n.Duration
			cf.Duration = &d
		}
		out = append(out, cf)
	}
	return out
}

// Questions are an exercise's questions, read from its archive, with
// their images as exercise_image files.
func (m *Mapper) Questions(n *SourceNode, ex *PerseusExercise) []db.ChefQuestion {
	out := make([]db.ChefQuestion, 0, len(ex.Items))
	for i, it := range ex.Items {
		q := db.ChefQuestion{AssessmentID: it.AssessmentID, Type: it.Type, Question: it.Question, Answers: it.Answers,
			Hints: it.Hints, RawData: it.RawData, Randomize: it.Randomize}
		for _, name := range ex.ItemImages[i] {
			preset := "exercise_image"
			if ext := name[strings.LastIndexByte(name, '.')+1:]; ext == "json" || ext == "graphie" {
				preset = "exercise_graphie"
			}
			q.Files = append(q.Files, db.ChefFile{Filename: name, Preset: preset, Size: int64(len(ex.Images[name]))})
		}
		out = append(out, q)
	}
	for _, w := range ex.Warnings {
		m.warn("exercise %s: %s", n.ID, w)
	}
	return out
}

// Digest sums what a node holds, to tell a later version's changed nodes
// from its unchanged ones: its row (but where it sits in the nested sets,
// which an insertion anywhere before it moves), files, tags, prerequisites
// and assessment metadata.
func Digest(n *SourceNode) string {
	row := n.Node
	row.Lft, row.Rght, row.Available = 0, 0, false
	b, _ := json.Marshal(struct {
		Row        Node
		Tags       []string
		Prereqs    []string
		Files      []SourceFile
		Assessment *SourceAssessment
	}{row, n.Tags, n.Prerequisites, n.Files, n.Assessment})
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:8])
}
