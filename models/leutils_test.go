package models

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/models/leutilsdump"
)

func TestLeUtilsCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  int
		want int
	}{
		{"kinds", len(Kinds), 10},
		{"file formats", len(FileFormats), 20},
		{"presets", len(FormatPresets), 32},
		{"renderable presets", len(RenderablePresetsOrder), 18},
		{"licenses", len(Licenses), 9},
		{"mastery models", len(MasteryModels), 9},
		{"completion models", len(CompletionModels), 6},
		{"assessment types", len(AssessmentTypes), 7}, // le-utils' 6 and true_false
		{"modalities", len(Modalities), 6},
		{"roles", len(Roles), 2},
		{"label fields", len(LabelFields), 6},
		{"languages", len(Languages()), 286},
	} {
		require.Equal(t, tc.want, tc.got, tc.name)
	}
	require.Equal(t, "0.2.20", LeUtilsVersion)
}

// TestLeUtilsNamedConstants checks that every value studio's code names is
// one of the generated le-utils values.
func TestLeUtilsNamedConstants(t *testing.T) {
	for _, tc := range []struct {
		list  []string
		named []string
	}{
		{Kinds, []string{KindTopic, KindVideo, KindAudio, KindExercise, KindDocument, KindHTML5, KindSlideshow, KindH5P, KindZim, KindQuiz}},
		{MasteryModels, []string{MasteryDoAll, MasteryNumCorrectInARow2, MasteryNumCorrectInARow10, MasteryNumCorrectInARow3,
			MasteryNumCorrectInARow5, MasterySkillCheck, MasteryMOfN, MasteryQuiz, MasteryPrePostTest}},
		{CompletionModels, []string{CompletionApproxTime, CompletionDeterminedByResource, CompletionMastery, CompletionPages, CompletionReference, CompletionTime}},
		{leQuestionTypes, []string{QuestionInput, QuestionMultipleSelection, QuestionSingleSelection, QuestionFreeResponse, QuestionPerseus, QuestionQTI}},
		{Modalities, []string{ModalityCourse, ModalityCustomNavigation, ModalityLesson, ModalityQuiz, ModalitySurvey, ModalityUnit}},
		{Roles, []string{RoleCoach, RoleLearner}},
		{leLibraries, []string{"KOLIBRI"}}, // what the public channel lookup reports
	} {
		for _, v := range tc.named {
			require.Contains(t, tc.list, v)
		}
	}
	for kind := range leCompletionModelsByKind {
		require.True(t, IsKind(kind), kind)
	}
	for _, models := range leCompletionModelsByKind {
		for _, m := range models {
			require.Contains(t, CompletionModels, m)
		}
	}
}

func TestLeUtilsDataConsistent(t *testing.T) {
	for _, k := range Kinds {
		require.True(t, IsKind(k), k)
	}
	require.False(t, IsKind("Topic"))

	seen := map[string]bool{}
	for _, p := range FormatPresets {
		require.False(t, seen[p.ID], "duplicate preset %s", p.ID)
		seen[p.ID] = true
		require.True(t, p.Kind == "" || IsKind(p.Kind), p.ID)
		require.NotEmpty(t, p.AllowedFormats, p.ID)
		for _, ext := range p.AllowedFormats {
			_, ok := FileFormatByExtension(ext)
			require.True(t, ok, "preset %s allows unknown format %s", p.ID, ext)
		}
		if p.Thumbnail || p.Subtitle {
			require.True(t, p.Supplementary, p.ID)
		}
	}
	for _, id := range RenderablePresetsOrder {
		p, ok := PresetByID(id)
		require.True(t, ok, id)
		require.False(t, p.Supplementary, id)
	}
	for i, l := range Licenses {
		require.Equal(t, i+1, l.ID)
	}
}

func TestLeUtilsPresets(t *testing.T) {
	for _, tc := range []struct {
		preset, ext string
		allowed     bool
	}{
		{"document", "pdf", true},
		{"document", "epub", false},
		{"epub", "epub", true},
		{"high_res_video", "mp4", true},
		{"high_res_video", ".MP4", true},
		{"high_res_video", "mp3", false},
		{"exercise_image", "gif", true},
		{"video_thumbnail", "gif", false},
		{"bloompub", "bloomd", true},
		{"channel_thumbnail", "png", true},
	} {
		p, ok := PresetByID(tc.preset)
		require.True(t, ok, tc.preset)
		require.Equal(t, tc.allowed, p.Allows(tc.ext), "%s allows %s", tc.preset, tc.ext)
	}

	_, ok := PresetByID("vector_video")
	require.False(t, ok)

	p, _ := PresetByID("channel_thumbnail")
	require.Empty(t, p.Kind)
	p, _ = PresetByID("video_subtitle")
	require.True(t, p.MultiLanguage)
	require.True(t, p.Subtitle)
	p, _ = PresetByID("qti")
	require.Equal(t, 0, p.Order, "le-utils 0.2.20 moved qti to order 0")

	var needs []string
	for _, p := range FormatPresets {
		if p.NeedsDuration() {
			needs = append(needs, p.ID)
		}
	}
	slices.Sort(needs)
	require.Equal(t, []string{"audio", "audio_dependency", "high_res_video", "low_res_video", "video_dependency"}, needs)
}

func TestLeUtilsFileFormats(t *testing.T) {
	for _, tc := range []struct{ ext, mime string }{
		{"mp4", "video/mp4"},
		{"MP3", "audio/mpeg"},
		{".jpg", "image/jpeg"},
		{"svg", "image/svg+xml"},
		{"perseus", "application/perseus+zip"},
		{"h5p", "application/zip"},
		{"vtt", "text/vtt"},
	} {
		f, ok := FileFormatByExtension(tc.ext)
		require.True(t, ok, tc.ext)
		require.Equal(t, tc.mime, f.MIMEType, tc.ext)
	}
	_, ok := FileFormatByExtension("avi") // convertible, never stored
	require.False(t, ok)

	// Every override replaces the value le-utils has now: when le-utils
	// changes one, the override is reviewed rather than silently kept.
	for ext, o := range leMIMETypeOverrides {
		i := slices.IndexFunc(leFileFormats, func(f FileFormat) bool { return f.Extension == ext })
		require.GreaterOrEqual(t, i, 0, ext)
		require.Equal(t, o.LeUtils, leFileFormats[i].MIMEType, ext)
		require.Equal(t, o.Served, FileFormats[i].MIMEType, ext)
	}
}

func TestLeUtilsLicenses(t *testing.T) {
	l, ok := LicenseByName("CC BY")
	require.True(t, ok)
	require.Equal(t, 1, l.ID)
	require.Equal(t, "https://creativecommons.org/licenses/by/4.0/", l.URL)
	require.True(t, l.CopyrightHolderRequired)
	require.False(t, l.IsCustom)

	l, ok = LicenseByName("Special Permissions")
	require.True(t, ok)
	require.True(t, l.IsCustom)

	l, ok = LicenseByName("Public Domain")
	require.True(t, ok)
	require.False(t, l.CopyrightHolderRequired)

	l, ok = LicenseByName("All Rights Reserved")
	require.True(t, ok)
	require.Equal(t, "http://www.allrights-reserved.com/", l.URL, "le-utils' url")

	_, ok = LicenseByName("cc by")
	require.False(t, ok)
}

func TestLeUtilsCompletionAndQuestions(t *testing.T) {
	for _, tc := range []struct {
		kind, model string
		want        bool
	}{
		{"exercise", "mastery", true},
		{"video", "mastery", false},
		{"video", "time", true},
		{"document", "pages", true},
		{"audio", "pages", false},
		{"html5", "determined_by_resource", true},
		{"h5p", "reference", true},
		{"topic", "mastery", true},
		{"slideshow", "time", false},
		{"nope", "time", false},
	} {
		require.Equal(t, tc.want, CompletionModelAllowed(tc.kind, tc.model), "%s/%s", tc.kind, tc.model)
	}

	require.True(t, IsAssessmentType("true_false"), "legacy, still accepted")
	require.True(t, IsAssessmentType("QTI"), "le-utils' spelling")
	require.False(t, IsAssessmentType("qti"), "only le-utils' spelling")
	require.False(t, IsAssessmentType(""))
}

func TestLanguageCodesKeptAsGiven(t *testing.T) {
	for _, tc := range []struct {
		code, id, name string
		rtl            bool
	}{
		// le-utils' own codes come back exactly as given.
		{"zul", "zul", "Zulu", false},
		{"sr-LATN", "sr-LATN", "Serbian, Latin", false},
		{"und", "und", "Undetermined", false},
		{"aka", "aka", "Akan", false},
		{"ak", "ak", "Akan", false},
		{"en", "en", "English", false},
		{"pt-BR", "pt-BR", "Portuguese, Brazil", false},
		{"zh-CN", "zh-CN", "Chinese (China)", false},
		{"zh-Hans", "zh-Hans", "Chinese (Simplified)", false},
		{"be-tarask", "be-tarask", "Belarusian, Classical Orthography", false},
		{"ar", "ar", "Arabic", true},
		{"ur-PK", "ur-PK", "Urdu", true},
		// Case and "_" are forgiven, and le-utils' spelling returned.
		{"EN", "en", "English", false},
		{"pt-br", "pt-BR", "Portuguese, Brazil", false},
		{"PT_br", "pt-BR", "Portuguese, Brazil", false},
		{"sr-Latn", "sr-LATN", "Serbian, Latin", false},
		{"sr_latn", "sr-LATN", "Serbian, Latin", false},
		{"ZUL", "zul", "Zulu", false},
	} {
		l, err := LanguageByCode(tc.code)
		require.NoError(t, err, tc.code)
		require.Equal(t, tc.id, l.ID, tc.code)
		require.Equal(t, tc.name, l.Name, tc.code)
		require.Equal(t, tc.rtl, l.RTL, tc.code)
		require.NotEmpty(t, l.NativeName, tc.code)
		require.Equal(t, l, *LanguageOf(tc.code), tc.code)
	}

	l, err := LanguageByCode("fr")
	require.NoError(t, err)
	require.Equal(t, "Français, langue française", l.NativeName)

	// CLDR's rewrites of le-utils codes are no le-utils codes, so they are
	// refused, pointing at le-utils' code.
	for _, tc := range []struct{ code, hint string }{
		{"zu", `"zul"`},
		{"es-419", `"es"`},
		{"en-US", `"en"`},
	} {
		_, err := LanguageByCode(tc.code)
		require.ErrorIs(t, err, ErrUnknownLanguage, tc.code)
		require.Contains(t, err.Error(), "did you mean", tc.code)
		require.Contains(t, err.Error(), tc.hint, tc.code)
	}

	// A stored code le-utils does not know is shown as itself.
	require.Equal(t, &Language{ID: "zu", Name: "zu", NativeName: "zu"}, LanguageOf("zu"))
	require.Nil(t, LanguageOf(""))
}

func TestLanguageByCodeUnknown(t *testing.T) {
	for _, tc := range []struct {
		code string
		want string // the whole message
	}{
		{"zz", `unknown language code "zz"; did you mean "za", "zh", "az"? The languages query lists every code`},
		{"zu", `unknown language code "zu"; did you mean "zul", "za", "zh"? The languages query lists every code`},
		{"en-XX", `unknown language code "en-XX"; did you mean "en", "en-GB", "en-PT"? The languages query lists every code`},
		{"", `unknown language code ""; use a code from the languages query, such as en or pt-BR`},
		{"not a language", `unknown language code "not a language"; use a code from the languages query, such as en or pt-BR`},
	} {
		_, err := LanguageByCode(tc.code)
		require.ErrorIs(t, err, ErrUnknownLanguage, tc.code)
		require.Equal(t, tc.want, err.Error(), tc.code)
	}
	for _, code := range []string{" en", "xx-!!", "x-private", "en-u-ca-gregory", "und-Latn", "iw"} {
		_, err := LanguageByCode(code)
		require.ErrorIs(t, err, ErrUnknownLanguage, "%q", code)
	}
}

func TestLanguages(t *testing.T) {
	ls := Languages()
	require.True(t, slices.IsSortedFunc(ls, func(a, b Language) int { return strings.Compare(a.ID, b.ID) }))
	folded := map[string]bool{}
	for _, l := range ls {
		f := leFoldLanguageCode(l.ID)
		require.False(t, folded[f], "two codes fold to %s", f)
		folded[f] = true
		require.NotEmpty(t, l.Name, l.ID)
		again, err := LanguageByCode(l.ID)
		require.NoError(t, err, l.ID)
		require.Equal(t, l, again)
		require.LessOrEqual(t, len(l.ID), 14, "Studio's language id column")
	}
	for _, id := range []string{"en", "fr", "es", "pt-BR", "ar", "sw", "hi", "zh-CN", "zh-TW", "nb", "tl", "mul", "und", "zul", "sr-LATN", "xh", "ny"} {
		require.True(t, folded[leFoldLanguageCode(id)], id)
	}
	for _, id := range []string{"es-419", "en-US", "zu", "de-CH"} {
		require.False(t, folded[leFoldLanguageCode(id)], id)
	}
}

func TestLabelSets(t *testing.T) {
	require.Equal(t, []string{"grade_levels", "resource_types", "learning_activities",
		"accessibility_labels", "categories", "learner_needs"}, LabelFields)
	counts := map[string]int{}
	for _, s := range LabelSets {
		ids := map[string]bool{}
		for _, l := range s.Labels {
			require.False(t, ids[l.ID], "duplicate %s in %s", l.ID, s.Module)
			ids[l.ID] = true
		}
		for _, l := range s.Labels {
			if p := l.Parent(); p != "" {
				require.True(t, ids[p], "%s's parent %s is in %s", l.ID, p, s.Module)
			}
		}
		counts[s.Module] = len(s.Labels)
	}
	require.Equal(t, map[string]int{"levels": 9, "resource_type": 10, "learning_activities": 7,
		"accessibility_categories": 6, "subjects": 58, "needs": 10}, counts)

	s, ok := LabelSetOf("categories")
	require.True(t, ok)
	l, ok := s.Label("d&WXdXWF.qs0Xlaxq")
	require.True(t, ok)
	require.Equal(t, Label{ID: "d&WXdXWF.qs0Xlaxq", Name: "Mathematics", Constant: "MATHEMATICS"}, l)
	require.Equal(t, "d&WXdXWF", l.Parent())
	school, _ := s.Label(l.Parent())
	require.Equal(t, "School", school.Name)
	require.Equal(t, "", school.Parent())
}

func TestValidateLabel(t *testing.T) {
	for _, tc := range []struct {
		field, id string
		ok        bool
		hints     []string
	}{
		{"categories", "d&WXdXWF.qs0Xlaxq", true, nil},
		{"grade_levels", "wnarlxKo", true, nil},
		{"learner_needs", "Hsw9k7Bz.G4h2UBuK", true, nil},
		{"accessibility_labels", "Kxx#meDW", true, nil},
		{"resource_types", "LQYjqpA", true, nil},
		{"learning_activities", "UD5UGM0z", true, nil},
		{"extra_fields", "anything", true, nil}, // not a label field
		// A label's name or Python name points at its id.
		{"categories", "MATHEMATICS", false, []string{`"d&WXdXWF.qs0Xlaxq" (Mathematics)`}},
		{"categories", "Mathematics", false, []string{`"d&WXdXWF.qs0Xlaxq" (Mathematics)`}},
		{"grade_levels", "upper_primary", false, []string{`"BkGYi3lD" (Upper Primary)`}},
		// A typo or a wrong case in an id points at the id.
		{"grade_levels", "wnarlxko", false, []string{`"wnarlxKo" (Lower Primary)`}},
		{"categories", "d&WXdXWF.qs0Xlax", false, []string{`"d&WXdXWF.qs0Xlaxq" (Mathematics)`}},
		// An id of another set is refused.
		{"grade_levels", "d&WXdXWF.qs0Xlaxq", false, nil},
		{"learner_needs", "nonsense-id-42", false, nil},
	} {
		err := ValidateLabel(tc.field, tc.id)
		if tc.ok {
			require.NoError(t, err, "%s %s", tc.field, tc.id)
			continue
		}
		require.Error(t, err, "%s %s", tc.field, tc.id)
		require.Equal(t, CodeBadUserInput, CodeOf(err))
		s, _ := LabelSetOf(tc.field)
		require.Contains(t, err.Error(), s.Module, "names the label set")
		require.Contains(t, err.Error(), strconv.Quote(tc.id))
		for _, h := range tc.hints {
			require.Contains(t, err.Error(), "did you mean "+h)
		}
		if tc.hints == nil {
			require.NotContains(t, err.Error(), "did you mean")
		}
	}
}

// EnvLeUtils names what TestLeUtilsMatchesPackage compares studio's tables
// with: the installed le_utils package directory (…/site-packages/le_utils),
// which the test reads with python3 and leutilsdump/dump.py, or a file that
// dump.py wrote (go run ./leutilsgen -dump FILE).
const EnvLeUtils = "STUDIO_TEST_LEUTILS"

func leUtilsDump(t *testing.T) leutilsdump.Dump {
	t.Helper()
	src := os.Getenv(EnvLeUtils)
	if src == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must compare studio's tables with le-utils %s (see TestLeUtilsMatchesPackage)", EnvLeUtils, LeUtilsVersion)
		}
		t.Skipf("%s is not set", EnvLeUtils)
	}
	fi, err := os.Stat(src)
	require.NoError(t, err)
	var raw []byte
	var dir string
	if fi.IsDir() {
		dir, err = filepath.Abs(src)
		require.NoError(t, err)
		if filepath.Base(dir) != "le_utils" {
			dir = filepath.Join(dir, "le_utils") // site-packages
		}
		// -I: only the given le-utils, whatever else PYTHONPATH or the user has.
		cmd := exec.Command("python3", "-I", "-c",
			"import sys; sys.path.insert(0, sys.argv[1]); exec(compile(sys.stdin.read(), 'dump.py', 'exec'))",
			filepath.Dir(dir))
		cmd.Stdin = bytes.NewReader(leutilsdump.Script)
		cmd.Stderr = os.Stderr
		raw, err = cmd.Output()
		require.NoError(t, err, "running dump.py with %s", dir)
	} else {
		raw, err = os.ReadFile(src)
		require.NoError(t, err)
	}
	var d leutilsdump.Dump
	require.NoError(t, json.Unmarshal(raw, &d))
	if dir != "" {
		require.Equal(t, dir, d.PackageDir, "dump.py read the le_utils in %s", EnvLeUtils)
	}
	return d
}

// TestLeUtilsMatchesPackage compares every table studio has from le-utils
// with le-utils' own files: no difference, but for the documented
// overrides (served mimetypes, legacy question types).
func TestLeUtilsMatchesPackage(t *testing.T) {
	d := leUtilsDump(t)
	require.Equal(t, LeUtilsVersion, d.Version, "the pinned le-utils")

	var want []Language
	for _, l := range d.Languages {
		want = append(want, Language{ID: l.ID, Name: l.Name, NativeName: l.NativeName, RTL: l.RTL})
	}
	slices.SortFunc(want, func(a, b Language) int { return strings.Compare(a.ID, b.ID) })
	require.Equal(t, want, Languages(), "languages")

	ids := func(xs []struct{ ID string }) []string {
		var out []string
		for _, x := range xs {
			out = append(out, x.ID)
		}
		return out
	}
	require.Equal(t, ids(d.Kinds), Kinds, "kinds")
	require.Equal(t, ids(d.MasteryModels), MasteryModels, "mastery models")
	require.Equal(t, ids(d.QuestionTypes), slices.DeleteFunc(slices.Clone(AssessmentTypes),
		func(s string) bool { return slices.Contains(leLegacyQuestionTypes, s) }), "question types")
	require.Equal(t, d.CompletionCriteria, CompletionModels, "completion criteria")
	require.Equal(t, d.Modalities, Modalities, "modalities")
	require.Equal(t, ids(d.Roles), Roles, "roles")
	require.Equal(t, d.Libraries, leLibraries, "libraries")
	require.Equal(t, d.RenderablePresetsOrder, RenderablePresetsOrder, "renderable presets order")

	var formats []FileFormat
	for _, f := range d.Formats {
		mime := f.MIMEType
		if o, ok := leMIMETypeOverrides[f.ID]; ok {
			require.Equal(t, o.LeUtils, mime, "the override of %s replaces le-utils' value", f.ID)
			mime = o.Served
		}
		formats = append(formats, FileFormat{Extension: f.ID, MIMEType: mime})
	}
	require.Equal(t, formats, FileFormats, "file formats")

	var presets []FormatPreset
	for _, p := range d.Presets {
		kind := ""
		if p.Kind != nil {
			kind = *p.Kind
		}
		presets = append(presets, FormatPreset{ID: p.ID, Kind: kind, Supplementary: p.Supplementary, Thumbnail: p.Thumbnail,
			Subtitle: p.Subtitle, MultiLanguage: p.MultiLanguage, Display: p.Display, Order: p.Order, AllowedFormats: p.AllowedFormats})
	}
	require.Equal(t, presets, FormatPresets, "format presets")

	var licenses []License
	for _, l := range d.Licenses {
		id, err := strconv.Atoi(l.ID)
		require.NoError(t, err)
		licenses = append(licenses, License{ID: id, Name: l.Name, URL: l.URL, IsCustom: l.Custom, CopyrightHolderRequired: l.CopyrightHolderRequired})
	}
	require.Equal(t, licenses, Licenses, "licenses")

	require.Len(t, LabelSets, len(d.Labels), "label modules")
	for _, s := range LabelSets {
		var want []Label
		for _, l := range d.Labels[s.Module] {
			want = append(want, Label{ID: l.ID, Name: l.Name, Constant: l.Constant})
		}
		require.Equal(t, want, s.Labels, "labels of %s", s.Module)
	}
}
