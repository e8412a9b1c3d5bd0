package models

import (
	"slices"
	"strings"
)

// This file encodes the le-utils v0.2.18 constants that Studio and Kolibri
// share (content kinds, file formats, presets, licenses, exercise and
// completion enums). They are plain data: le-utils is the source of truth
// and these values must stay byte-identical with what Kolibri expects.

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
var Kinds = []string{
	KindTopic, KindVideo, KindAudio, KindExercise, KindDocument,
	KindHTML5, KindSlideshow, KindH5P, KindZim, KindQuiz,
}

// IsKind reports whether s is a content kind.
func IsKind(s string) bool { return slices.Contains(Kinds, s) }

// FileFormat is a stored file extension and the mimetype served for it.
type FileFormat struct {
	Extension string
	MIMEType  string
}

// FileFormats lists the 20 formats Studio may store. Where le-utils gives no
// mimetype we use the standard one (h5p is a zip archive).
var FileFormats = []FileFormat{
	{"mp4", "video/mp4"},
	{"webm", "video/webm"},
	{"vtt", "text/vtt"},
	{"pdf", "application/pdf"},
	{"epub", "application/epub+zip"},
	{"mp3", "audio/mpeg"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"png", "image/png"},
	{"gif", "image/gif"},
	{"json", "application/json"},
	{"svg", "image/svg+xml"},
	{"graphie", "application/graphie"},
	{"perseus", "application/perseus+zip"},
	{"h5p", "application/zip"},
	{"zim", "application/zim"},
	{"zip", "application/zip"},
	{"bloompub", "application/bloompub+zip"},
	{"bloomd", "application/bloompub+zip"},
	{"kpub", "application/kpub+zip"},
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

var (
	leImageFormats = []string{"png", "jpg", "jpeg"}
	leVideoFormats = []string{"mp4", "webm"}
)

// FormatPresets lists the 32 presets of le-utils presetlookup.json.
var FormatPresets = []FormatPreset{
	{ID: "high_res_video", Kind: KindVideo, Display: true, Order: 1, AllowedFormats: leVideoFormats},
	{ID: "low_res_video", Kind: KindVideo, Display: true, Order: 2, AllowedFormats: leVideoFormats},
	{ID: "video_dependency", Kind: KindVideo, Order: 3, AllowedFormats: leVideoFormats},
	{ID: "video_thumbnail", Kind: KindVideo, Supplementary: true, Thumbnail: true, Display: true, Order: 3, AllowedFormats: leImageFormats},
	{ID: "video_subtitle", Kind: KindVideo, Supplementary: true, Subtitle: true, MultiLanguage: true, Display: true, Order: 4, AllowedFormats: []string{"vtt"}},
	{ID: "audio", Kind: KindAudio, Display: true, Order: 1, AllowedFormats: []string{"mp3"}},
	{ID: "audio_dependency", Kind: KindAudio, Order: 3, AllowedFormats: []string{"mp3"}},
	{ID: "audio_thumbnail", Kind: KindAudio, Supplementary: true, Thumbnail: true, Display: true, Order: 2, AllowedFormats: leImageFormats},
	{ID: "epub", Kind: KindDocument, Display: true, Order: 1, AllowedFormats: []string{"epub"}},
	{ID: "document", Kind: KindDocument, Display: true, Order: 2, AllowedFormats: []string{"pdf"}},
	{ID: "document_thumbnail", Kind: KindDocument, Supplementary: true, Thumbnail: true, Display: true, Order: 4, AllowedFormats: leImageFormats},
	{ID: "exercise", Kind: KindExercise, Order: 1, AllowedFormats: []string{"perseus"}},
	{ID: "exercise_thumbnail", Kind: KindExercise, Supplementary: true, Thumbnail: true, Display: true, Order: 2, AllowedFormats: leImageFormats},
	{ID: "exercise_image", Kind: KindExercise, Supplementary: true, Order: 3, AllowedFormats: []string{"png", "jpg", "jpeg", "gif", "svg"}},
	{ID: "exercise_graphie", Kind: KindExercise, Supplementary: true, Order: 4, AllowedFormats: []string{"svg", "json", "graphie"}},
	{ID: "channel_thumbnail", Kind: "", Supplementary: true, Thumbnail: true, Display: true, Order: 0, AllowedFormats: leImageFormats},
	{ID: "topic_thumbnail", Kind: KindTopic, Supplementary: true, Thumbnail: true, Display: true, Order: 1, AllowedFormats: leImageFormats},
	{ID: "html5_zip", Kind: KindHTML5, Display: true, Order: 1, AllowedFormats: []string{"zip"}},
	{ID: "html5_dependency", Kind: KindHTML5, Order: 3, AllowedFormats: []string{"zip"}},
	{ID: "html5_thumbnail", Kind: KindHTML5, Supplementary: true, Thumbnail: true, Display: true, Order: 2, AllowedFormats: leImageFormats},
	{ID: "imscp_zip", Kind: KindHTML5, Display: true, Order: 1, AllowedFormats: []string{"zip"}},
	{ID: "h5p", Kind: KindH5P, Display: true, Order: 1, AllowedFormats: []string{"h5p"}},
	{ID: "h5p_thumbnail", Kind: KindH5P, Supplementary: true, Thumbnail: true, Display: true, Order: 2, AllowedFormats: leImageFormats},
	{ID: "zim", Kind: KindZim, Order: 1, AllowedFormats: []string{"zim"}},
	{ID: "zim_thumbnail", Kind: KindZim, Supplementary: true, Thumbnail: true, Display: true, Order: 2, AllowedFormats: leImageFormats},
	{ID: "qti", Kind: KindExercise, Order: 1, AllowedFormats: []string{"zip"}},
	{ID: "qti_thumbnail", Kind: KindExercise, Supplementary: true, Thumbnail: true, Display: true, Order: 2, AllowedFormats: leImageFormats},
	{ID: "slideshow_image", Kind: KindSlideshow, Order: 3, AllowedFormats: leImageFormats},
	{ID: "slideshow_thumbnail", Kind: KindSlideshow, Supplementary: true, Thumbnail: true, Order: 2, AllowedFormats: leImageFormats},
	{ID: "slideshow_manifest", Kind: KindSlideshow, Order: 1, AllowedFormats: []string{"json"}},
	{ID: "bloompub", Kind: KindDocument, Display: true, Order: 3, AllowedFormats: []string{"bloompub", "bloomd"}},
	{ID: "kpub", Kind: KindDocument, Display: true, Order: 1, AllowedFormats: []string{"kpub"}},
}

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
// content_file.included_presets bitmask: preset i sets bit 1<<i. Never
// reorder it; append only.
var RenderablePresetsOrder = []string{
	"high_res_video", "low_res_video", "video_dependency", "audio", "audio_dependency",
	"epub", "document", "exercise", "html5_zip", "html5_dependency", "imscp_zip",
	"h5p", "zim", "qti", "slideshow_image", "slideshow_manifest", "bloompub", "kpub",
}

// License is one of the 9 licenses seeded from le-utils. Name is the value
// Kolibri stores as license_name. URL is the standard Creative Commons deed
// (empty where there is none).
type License struct {
	ID                      int
	Name                    string
	URL                     string
	IsCustom                bool // needs a license_description
	CopyrightHolderRequired bool
}

// Licenses lists the licenses with their fixed le-utils ids.
var Licenses = []License{
	{1, "CC BY", "https://creativecommons.org/licenses/by/4.0/", false, true},
	{2, "CC BY-SA", "https://creativecommons.org/licenses/by-sa/4.0/", false, true},
	{3, "CC BY-ND", "https://creativecommons.org/licenses/by-nd/4.0/", false, true},
	{4, "CC BY-NC", "https://creativecommons.org/licenses/by-nc/4.0/", false, true},
	{5, "CC BY-NC-SA", "https://creativecommons.org/licenses/by-nc-sa/4.0/", false, true},
	{6, "CC BY-NC-ND", "https://creativecommons.org/licenses/by-nc-nd/4.0/", false, true},
	{7, "All Rights Reserved", "", false, true},
	{8, "Public Domain", "https://creativecommons.org/publicdomain/mark/1.0/", false, false},
	{9, "Special Permissions", "", true, true},
}

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

// MasteryModels lists the 9 mastery models in le-utils order.
var MasteryModels = []string{
	MasteryDoAll, MasteryNumCorrectInARow2, MasteryNumCorrectInARow10,
	MasteryNumCorrectInARow3, MasteryNumCorrectInARow5, MasterySkillCheck,
	MasteryMOfN, MasteryQuiz, MasteryPrePostTest,
}

// Completion criteria models (options.completion_criteria.model).
const (
	CompletionApproxTime           = "approx_time"
	CompletionDeterminedByResource = "determined_by_resource"
	CompletionMastery              = "mastery"
	CompletionPages                = "pages"
	CompletionReference            = "reference"
	CompletionTime                 = "time"
)

// CompletionModels lists the 6 completion criteria models.
var CompletionModels = []string{
	CompletionApproxTime, CompletionDeterminedByResource, CompletionMastery,
	CompletionPages, CompletionReference, CompletionTime,
}

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

// Assessment item (question) types. true_false is legacy: Studio treats it
// as single_selection but still accepts it.
const (
	QuestionInput             = "input_question"
	QuestionMultipleSelection = "multiple_selection"
	QuestionSingleSelection   = "single_selection"
	QuestionFreeResponse      = "free_response"
	QuestionPerseus           = "perseus_question"
	QuestionQTI               = "qti"
	QuestionTrueFalse         = "true_false"
)

// AssessmentTypes lists the accepted assessment item types.
var AssessmentTypes = []string{
	QuestionInput, QuestionMultipleSelection, QuestionSingleSelection,
	QuestionFreeResponse, QuestionPerseus, QuestionQTI, QuestionTrueFalse,
}

// IsAssessmentType reports whether s is an accepted assessment item type.
func IsAssessmentType(s string) bool { return slices.Contains(AssessmentTypes, s) }

// Modalities (options.modality). Note the upper case values.
const (
	ModalityCourse           = "COURSE"
	ModalityCustomNavigation = "CUSTOM_NAVIGATION"
	ModalityLesson           = "LESSON"
	ModalityQuiz             = "QUIZ"
	ModalitySurvey           = "SURVEY"
	ModalityUnit             = "UNIT"
)

// Modalities lists the 6 modalities.
var Modalities = []string{
	ModalityCourse, ModalityCustomNavigation, ModalityLesson,
	ModalityQuiz, ModalitySurvey, ModalityUnit,
}

// Roles for ContentNode.role_visibility; learner is the default.
const (
	RoleCoach   = "coach"
	RoleLearner = "learner"
)

// Roles lists the 2 visibility roles.
var Roles = []string{RoleCoach, RoleLearner}

// LabelFields are the ContentNode metadata label fields. Each is stored as
// a JSON map {label_id: true}; label ids are opaque le-utils strings (nested
// ones dotted, "parent.child"), so they are not listed here.
var LabelFields = []string{
	"grade_levels", "resource_types", "learning_activities",
	"accessibility_labels", "categories", "learner_needs",
}
