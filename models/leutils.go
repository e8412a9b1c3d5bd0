package models

import (
	"slices"
	"strings"
)

//go:generate go run ./leutilsgen

// This file names the le-utils constants that Studio and Kolibri share
// (content kinds, file formats, presets, licenses, exercise and completion
// enums). The tables themselves are generated from the pinned le-utils
// release into leutils_gen.go (go generate; leutilsgen/main.go says how),
// so their values are le-utils' own. What is written by hand here is only
// what studio adds: Go names for the values code branches on (each checked
// against the generated tables by the tests), the mimetypes served where
// le-utils has placeholders, a legacy question type, and Studio's rules.

// Content kinds (le-utils content_kinds). Studio never creates "quiz" nodes,
// but channels may carry it, so it is listed.
const (
	KindTopic     = "topic"
	KindVideo     = "video"
	KindAudio     = "audio"
	KindExercise  = "exercise"
	KindDocument  = "document"
	KindHTML5     = "html5"
	KindSlideshow = "slideshow"
	KindH5P       = "h5p"
	KindZim       = "zim"
	KindQuiz      = "quiz"
)

// Kinds lists every content kind in le-utils order.
var Kinds = leKinds

// IsKind reports whether s is a content kind.
func IsKind(s string) bool { return slices.Contains(Kinds, s) }

// FileFormat is a stored file extension and the mimetype served for it.
type FileFormat struct {
	Extension string
	MIMEType  string
}

// FileFormats lists the formats Studio may store, in le-utils order, each
// with the mimetype studio serves for it: le-utils' own, except where
// leMIMETypeOverrides replaces it.
var FileFormats = leServedFormats()

// leMIMETypeOverrides are the standard mimetypes studio serves where
// le-utils' formatlookup.json has a placeholder (".vtt") or a non-standard
// type ("image/svg"), keyed by extension. Each entry records le-utils' value
// too, so that the tests notice when le-utils changes it. Only these
// entries differ from le-utils; browsers and Kolibri need real types.
var leMIMETypeOverrides = map[string]struct{ LeUtils, Served string }{
	"vtt":     {".vtt", "text/vtt"},
	"mp3":     {".mp3", "audio/mpeg"},
	"svg":     {"image/svg", "image/svg+xml"},
	"graphie": {".graphie", "application/graphie"}, //nolint:misspell // Khan Academy's format, not graphite
	"h5p":     {".h5p", "application/zip"},         // an h5p file is a zip archive
	"zim":     {".zim", "application/zim"},
	"zip":     {".zip", "application/zip"},
}

func leServedFormats() []FileFormat {
	out := slices.Clone(leFileFormats)
	for i, f := range out {
		if o, ok := leMIMETypeOverrides[f.Extension]; ok && o.LeUtils == f.MIMEType {
			out[i].MIMEType = o.Served
		}
	}
	return out
}

// leNormExt lowercases an extension and drops a leading dot, so ".PNG"
// and "png" match the same format.
func leNormExt(ext string) string { return strings.ToLower(strings.TrimPrefix(ext, ".")) }

// FileFormatByExtension finds a format by extension (case-insensitive,
// leading dot optional).
func FileFormatByExtension(ext string) (FileFormat, bool) {
	ext = leNormExt(ext)
	for _, f := range FileFormats {
		if f.Extension == ext {
			return f, true
		}
	}
	return FileFormat{}, false
}

// FormatPreset says what role a file plays on a node of Kind and which
// extensions it accepts. Supplementary files (thumbnails, subtitles, exercise
// images) do not make a node complete on their own.
type FormatPreset struct {
	ID             string
	Kind           string // "" for channel_thumbnail, which belongs to no kind
	Supplementary  bool
	Thumbnail      bool
	Subtitle       bool
	MultiLanguage  bool // several files of this preset may coexist, one per language
	Display        bool
	Order          int
	AllowedFormats []string
}

// FormatPresets lists le-utils' presets (presetlookup.json).
var FormatPresets = leFormatPresets

// PresetByID finds a format preset by id.
func PresetByID(id string) (FormatPreset, bool) {
	for _, p := range FormatPresets {
		if p.ID == id {
			return p, true
		}
	}
	return FormatPreset{}, false
}

// Allows reports whether a file with extension ext may use this preset
// (case-insensitive, leading dot optional).
func (p FormatPreset) Allows(ext string) bool {
	return slices.Contains(p.AllowedFormats, leNormExt(ext))
}

// NeedsDuration reports whether files of this preset are audio or video
// media, whose duration is recorded.
func (p FormatPreset) NeedsDuration() bool {
	switch p.ID {
	case "audio", "audio_dependency", "high_res_video", "low_res_video", "video_dependency":
		return true
	}
	return false
}

// RenderablePresetsOrder fixes the bit of each renderable preset in Kolibri's
// content_file.included_presets bitmask: preset i sets bit 1<<i. It is
// le-utils' RENDERABLE_PRESETS_ORDER, which le-utils only appends to.
var RenderablePresetsOrder = leRenderablePresetsOrder

// License is one of le-utils' licenses. Name is the value Kolibri stores as
// license_name. URL is le-utils' (empty where there is none).
type License struct {
	ID                      int
	Name                    string
	URL                     string
	IsCustom                bool // needs a license_description
	CopyrightHolderRequired bool
}

// Licenses lists the licenses with their fixed le-utils ids.
var Licenses = leLicenses

// LicenseByName finds a license by its exact name, e.g. "CC BY".
func LicenseByName(name string) (License, bool) {
	for _, l := range Licenses {
		if l.Name == name {
			return l, true
		}
	}
	return License{}, false
}

// Mastery models (le-utils exercises.MASTERY_MODELS): the threshold of a
// "mastery" completion criterion. m and n only matter for m_of_n.
const (
	MasteryDoAll              = "do_all"
	MasteryNumCorrectInARow2  = "num_correct_in_a_row_2"
	MasteryNumCorrectInARow10 = "num_correct_in_a_row_10"
	MasteryNumCorrectInARow3  = "num_correct_in_a_row_3"
	MasteryNumCorrectInARow5  = "num_correct_in_a_row_5"
	MasterySkillCheck         = "skill_check"
	MasteryMOfN               = "m_of_n"
	MasteryQuiz               = "quiz"
	MasteryPrePostTest        = "pre_post_test"
)

// MasteryModels lists the mastery models in le-utils order.
var MasteryModels = leMasteryModels

// Completion criteria models (options.completion_criteria.model).
const (
	CompletionApproxTime           = "approx_time"
	CompletionDeterminedByResource = "determined_by_resource"
	CompletionMastery              = "mastery"
	CompletionPages                = "pages"
	CompletionReference            = "reference"
	CompletionTime                 = "time"
)

// CompletionModels lists the completion criteria models.
var CompletionModels = leCompletionCriteria

// leCompletionModelsByKind is Studio's per-kind allow-list. Kinds absent
// from it (slideshow, zim, quiz) accept no completion criteria.
var leCompletionModelsByKind = map[string][]string{
	KindDocument: {CompletionPages, CompletionTime, CompletionApproxTime, CompletionReference},
	KindExercise: {CompletionMastery},
	KindHTML5:    {CompletionDeterminedByResource, CompletionTime, CompletionApproxTime, CompletionReference},
	KindH5P:      {CompletionDeterminedByResource, CompletionTime, CompletionApproxTime, CompletionReference},
	KindAudio:    {CompletionTime, CompletionApproxTime, CompletionReference},
	KindVideo:    {CompletionTime, CompletionApproxTime, CompletionReference},
	KindTopic:    {CompletionMastery},
}

// CompletionModelAllowed reports whether a node of kind may use completion
// model. For topics the caller must also check modality UNIT and mastery
// model pre_post_test; this only checks the kind/model pair.
func CompletionModelAllowed(kind, model string) bool {
	return slices.Contains(leCompletionModelsByKind[kind], model)
}

// Assessment item (question) types, spelt as le-utils spells them (QTI is
// upper case, as Studio stores it).
const (
	QuestionInput             = "input_question"
	QuestionMultipleSelection = "multiple_selection"
	QuestionSingleSelection   = "single_selection"
	QuestionFreeResponse      = "free_response"
	QuestionPerseus           = "perseus_question"
	QuestionQTI               = "QTI"
	// QuestionTrueFalse is legacy: le-utils no longer lists it, but older
	// channels carry it and Studio treats it as single_selection.
	QuestionTrueFalse = "true_false"
)

// leLegacyQuestionTypes are accepted on top of le-utils' question types.
var leLegacyQuestionTypes = []string{QuestionTrueFalse}

// AssessmentTypes lists the accepted assessment item types: le-utils'
// exercises.question_choices, then the legacy ones.
var AssessmentTypes = slices.Concat(leQuestionTypes, leLegacyQuestionTypes)

// IsAssessmentType reports whether s is an accepted assessment item type.
func IsAssessmentType(s string) bool { return slices.Contains(AssessmentTypes, s) }

// IsLegacyAssessmentType reports whether s is accepted though le-utils no
// longer lists it.
func IsLegacyAssessmentType(s string) bool { return slices.Contains(leLegacyQuestionTypes, s) }

// Modalities (options.modality). Note the upper case values.
const (
	ModalityCourse           = "COURSE"
	ModalityCustomNavigation = "CUSTOM_NAVIGATION"
	ModalityLesson           = "LESSON"
	ModalityQuiz             = "QUIZ"
	ModalitySurvey           = "SURVEY"
	ModalityUnit             = "UNIT"
)

// Modalities lists the modalities.
var Modalities = leModalities

// Roles for ContentNode.role_visibility; learner is the default.
const (
	RoleCoach   = "coach"
	RoleLearner = "learner"
)

// Roles lists the visibility roles.
var Roles = leRoles

// leSuggest returns up to 3 of cands closest to q, for "did you mean"
// messages, nearest first: equal but for case and "_"; then by edit
// distance, where a candidate that q extends by a subtag ("en" for "en-XX")
// counts as one edit, and ties go to the longer common prefix. Candidates
// that extend q ("zul" for "zu") are kept even when far.
func leSuggest(q string, cands []string) []string {
	fold := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "-")) }
	fq := fold(q)
	if fq == "" {
		return nil
	}
	maxDist := 1
	if len([]rune(fq)) > 3 {
		maxDist = 2
	}
	type scored struct {
		cand         string
		dist, common int
	}
	var found []scored
	for _, c := range cands {
		fc := fold(c)
		d := leDistance(fq, fc)
		ancestor := len(fc) < len(fq) && strings.HasPrefix(fq, fc) && strings.ContainsRune("-.", rune(fq[len(fc)]))
		if ancestor {
			d = 1
		}
		if d <= maxDist || ancestor || strings.HasPrefix(fc, fq) {
			common := 0
			for common < min(len(fq), len(fc)) && fq[common] == fc[common] {
				common++
			}
			found = append(found, scored{c, d, common})
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		return b.common - a.common
	})
	var out []string
	for _, f := range found[:min(len(found), 3)] {
		out = append(out, f.cand)
	}
	return out
}

// leDistance is the Levenshtein distance between a and b, in runes.
func leDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
