package models

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
		{"assessment types", len(AssessmentTypes), 7},
		{"modalities", len(Modalities), 6},
		{"roles", len(Roles), 2},
		{"label fields", len(LabelFields), 6},
	} {
		require.Equal(t, tc.want, tc.got, tc.name)
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
	} {
		f, ok := FileFormatByExtension(tc.ext)
		require.True(t, ok, tc.ext)
		require.Equal(t, tc.mime, f.MIMEType, tc.ext)
	}
	_, ok := FileFormatByExtension("avi") // convertible, never stored
	require.False(t, ok)
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

	require.True(t, IsAssessmentType("true_false"))
	require.True(t, IsAssessmentType("qti"))
	require.False(t, IsAssessmentType("QTI"))
	require.False(t, IsAssessmentType(""))
}

func TestLanguageByCode(t *testing.T) {
	for _, tc := range []struct {
		code, id, name string
		rtl            bool
	}{
		{"en", "en", "English", false},
		{"EN", "en", "English", false},
		{"pt-br", "pt-BR", "Brazilian Portuguese", false},
		{"pt_BR", "pt-BR", "Brazilian Portuguese", false},
		{"sr-Latn", "sr-Latn", "Serbian (Latin)", false},
		{"sr-LATN", "sr-Latn", "Serbian (Latin)", false},
		{"zh-hans", "zh-Hans", "Simplified Chinese", false},
		{"es-419", "es-419", "Latin American Spanish", false},
		{"ar", "ar", "Arabic", true},
		{"he", "he", "Hebrew", true},
		{"iw", "iw", "Hebrew", true}, // deprecated codes are kept as given
		{"ur", "ur", "Urdu", true},
		{"ff-Adlm", "ff-Adlm", "Fulah (Adlam)", true},
		{"sw", "sw", "Swahili", false},
		{"be-tarask", "be-tarask", "Belarusian", false},
	} {
		l, err := LanguageByCode(tc.code)
		require.NoError(t, err, tc.code)
		require.Equal(t, tc.id, l.ID, tc.code)
		require.Equal(t, tc.name, l.Name, tc.code)
		require.Equal(t, tc.rtl, l.RTL, tc.code)
		require.NotEmpty(t, l.NativeName, tc.code)
	}

	l, err := LanguageByCode("fr")
	require.NoError(t, err)
	require.Equal(t, "français", l.NativeName)

	for _, code := range []string{"", " en", "xx-!!", "zz", "und", "und-Latn", "x-private", "en-u-ca-gregory", "toolongcode", "en-Latn-US-1606nict-fonipa"} {
		_, err := LanguageByCode(code)
		require.ErrorIs(t, err, ErrUnknownLanguage, "%q", code)
	}
}

func TestLanguages(t *testing.T) {
	ls := Languages()
	require.Greater(t, len(ls), 200)
	require.True(t, slices.IsSortedFunc(ls, func(a, b Language) int { return strings.Compare(a.ID, b.ID) }))
	ids := map[string]bool{}
	for _, l := range ls {
		require.False(t, ids[l.ID], "duplicate %s", l.ID)
		ids[l.ID] = true
		require.NotEmpty(t, l.Name, l.ID)
		again, err := LanguageByCode(l.ID)
		require.NoError(t, err, l.ID)
		require.Equal(t, l, again)
	}
	for _, id := range []string{"en", "fr", "es", "pt-BR", "ar", "sw", "hi", "zh", "zh-Hans", "sr-Latn", "es-419", "xh", "ny"} {
		require.True(t, ids[id], id)
	}
	require.False(t, ids["und"])
	require.Equal(t, ls, Languages(), "stable across calls")
}
