package models

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func requireBadInput(t *testing.T, err error, contains string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, CodeBadUserInput, CodeOf(err))
	if contains != "" {
		require.Contains(t, err.Error(), contains)
	}
}

func TestValidateTag(t *testing.T) {
	for _, tc := range []struct {
		name, tag, wantErr string
	}{
		{"simple", "math", ""},
		{"exactly 30", strings.Repeat("a", 30), ""},
		{"30 multibyte runes", strings.Repeat("é", 30), ""},
		{"31", strings.Repeat("a", 31), "at most 30"},
		{"31 runes", strings.Repeat("語", 31), "at most 30"},
		{"empty", "", "blank"},
		{"blank", "   \t", "blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateTag(tc.tag)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			requireBadInput(t, err, tc.wantErr)
		})
	}
	require.Equal(t, 30, MaxTagLength)
}

func TestMasteryOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		extra  map[string]any
		want   string
		wantOK bool
	}{
		{"nil", nil, "", false},
		{"empty", map[string]any{}, "", false},
		{"legacy", map[string]any{"mastery_model": "do_all"}, "do_all", true},
		{"legacy empty string", map[string]any{"mastery_model": ""}, "", false},
		{"legacy not a string", map[string]any{"mastery_model": 3}, "", false},
		{
			"completion criteria",
			map[string]any{"options": map[string]any{"completion_criteria": map[string]any{
				"model": "mastery", "threshold": map[string]any{"mastery_model": "m_of_n", "m": 3, "n": 5},
			}}},
			"m_of_n", true,
		},
		{
			"criteria win over legacy",
			map[string]any{"mastery_model": "do_all", "options": map[string]any{"completion_criteria": map[string]any{
				"model": "mastery", "threshold": map[string]any{"mastery_model": "num_correct_in_a_row_5"},
			}}},
			"num_correct_in_a_row_5", true,
		},
		{
			"non-mastery criteria fall back to legacy",
			map[string]any{"mastery_model": "do_all", "options": map[string]any{"completion_criteria": map[string]any{
				"model": "time", "threshold": 10,
			}}},
			"do_all", true,
		},
		{
			"mastery criteria without threshold",
			map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "mastery"}}},
			"", false,
		},
		{
			"criteria without mastery_model",
			map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "mastery", "threshold": map[string]any{}}}},
			"", false,
		},
		{"options not an object", map[string]any{"options": "x"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := MasteryOf(tc.extra)
			require.Equal(t, tc.wantOK, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestValidateCompletionCriteria(t *testing.T) {
	mastery := func(th map[string]any) map[string]any { return map[string]any{"model": "mastery", "threshold": th} }
	for _, tc := range []struct {
		name    string
		kind    string
		cc      map[string]any
		full    bool
		wantErr string // "" = valid
	}{
		// model checks (always)
		{"nil criteria", KindVideo, nil, false, "must be an object"},
		{"missing model", KindVideo, map[string]any{"threshold": 10}, false, "need a model"},
		{"null model", KindVideo, map[string]any{"model": nil}, false, "need a model"},
		{"unknown model", KindVideo, map[string]any{"model": "forever"}, false, "not known"},
		{"model not a string", KindVideo, map[string]any{"model": 3}, false, "not known"},
		{"video with mastery rejected", KindVideo, mastery(map[string]any{"mastery_model": "do_all"}), false, `"mastery" is not allowed for video`},
		{"video with mastery rejected full", KindVideo, mastery(map[string]any{"mastery_model": "do_all"}), true, "not allowed for video"},
		{"audio pages rejected", KindAudio, map[string]any{"model": "pages", "threshold": 3}, false, "use one of time, approx_time, reference"},
		{"exercise time rejected", KindExercise, map[string]any{"model": "time", "threshold": 3}, false, "not allowed for exercise"},
		{"document determined_by_resource rejected", KindDocument, map[string]any{"model": "determined_by_resource"}, false, "not allowed"},
		{"slideshow has none", KindSlideshow, map[string]any{"model": "time", "threshold": 3}, false, "cannot have completion criteria"},
		{"topic with time rejected", KindTopic, map[string]any{"model": "time", "threshold": 3}, false, "not allowed for topic"},
		{"topic mastery wrong model rejected", KindTopic, mastery(map[string]any{"mastery_model": "do_all"}), false, "pre_post_test"},
		{"topic mastery pre_post_test", KindTopic, mastery(map[string]any{"mastery_model": "pre_post_test"}), true, ""},
		{"topic mastery full needs pre_post_test", KindTopic, mastery(map[string]any{}), true, "mastery_model"},

		// not full: only the model is checked
		{"partial time without threshold", KindVideo, map[string]any{"model": "time"}, false, ""},
		{"partial mastery without threshold", KindExercise, map[string]any{"model": "mastery"}, false, ""},
		{"partial bad m_of_n ignored", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "m": 9, "n": 2}), false, ""},

		// mastery
		{"exercise do_all", KindExercise, mastery(map[string]any{"mastery_model": "do_all"}), true, ""},
		{"exercise m/n null for non m_of_n", KindExercise, mastery(map[string]any{"mastery_model": "num_correct_in_a_row_3", "m": nil, "n": nil}), true, ""},
		{"exercise m_of_n", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "m": 3, "n": 5}), true, ""},
		{"exercise m_of_n m == n", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "m": 5.0, "n": 5.0}), true, ""},
		{"exercise m_of_n json.Number", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "m": json.Number("2"), "n": int64(4)}), true, ""},
		{"exercise m_of_n m > n", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "m": 6, "n": 5}), true, "m ≤ n"},
		{"exercise m_of_n missing m", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "n": 5}), true, "needs m"},
		{"exercise m_of_n zero n", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "m": 1, "n": 0}), true, "needs n"},
		{"exercise m_of_n fractional m", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "m": 1.5, "n": 3}), true, "needs m"},
		{"exercise m_of_n string m", KindExercise, mastery(map[string]any{"mastery_model": "m_of_n", "m": "3", "n": 5}), true, "needs m"},
		{"exercise unknown mastery model", KindExercise, mastery(map[string]any{"mastery_model": "most"}), true, "not known"},
		{"exercise missing mastery model", KindExercise, mastery(map[string]any{}), true, "need threshold.mastery_model"},
		{"exercise threshold not object", KindExercise, map[string]any{"model": "mastery", "threshold": 5}, true, "threshold object"},
		{"exercise threshold missing", KindExercise, map[string]any{"model": "mastery"}, true, "threshold object"},
		{"exercise threshold unknown key", KindExercise, mastery(map[string]any{"mastery_model": "do_all", "k": 1}), true, `does not take "k"`},

		// time and approx_time
		{"video time", KindVideo, map[string]any{"model": "time", "threshold": 120}, true, ""},
		{"video approx_time float", KindVideo, map[string]any{"model": "approx_time", "threshold": 90.5}, true, ""},
		{"video time json.Number", KindVideo, map[string]any{"model": "time", "threshold": json.Number("12.5")}, true, ""},
		{"video time zero", KindVideo, map[string]any{"model": "time", "threshold": 0}, true, "positive number"},
		{"video time negative", KindVideo, map[string]any{"model": "time", "threshold": -3.0}, true, "positive number"},
		{"video time string", KindVideo, map[string]any{"model": "time", "threshold": "10"}, true, "positive number"},
		{"video time missing", KindVideo, map[string]any{"model": "time"}, true, "needs a threshold"},
		{"video time null", KindVideo, map[string]any{"model": "time", "threshold": nil}, true, "needs a threshold"},

		// pages
		{"document pages 50%", KindDocument, map[string]any{"model": "pages", "threshold": "50%"}, true, ""},
		{"document pages 100%", KindDocument, map[string]any{"model": "pages", "threshold": "100%"}, true, ""},
		{"document pages 1%", KindDocument, map[string]any{"model": "pages", "threshold": "1%"}, true, ""},
		{"document pages count", KindDocument, map[string]any{"model": "pages", "threshold": 12}, true, ""},
		{"document pages float count", KindDocument, map[string]any{"model": "pages", "threshold": 12.0}, true, ""},
		{"document pages 101%", KindDocument, map[string]any{"model": "pages", "threshold": "101%"}, true, "not a percentage"},
		{"document pages 0%", KindDocument, map[string]any{"model": "pages", "threshold": "0%"}, true, "not a percentage"},
		{"document pages 050%", KindDocument, map[string]any{"model": "pages", "threshold": "050%"}, true, "not a percentage"},
		{"document pages no percent sign", KindDocument, map[string]any{"model": "pages", "threshold": "50"}, true, "not a percentage"},
		{"document pages zero", KindDocument, map[string]any{"model": "pages", "threshold": 0}, true, "positive whole number"},
		{"document pages fraction", KindDocument, map[string]any{"model": "pages", "threshold": 2.5}, true, "positive whole number"},
		{"document pages missing", KindDocument, map[string]any{"model": "pages"}, true, "needs a threshold"},

		// reference and determined_by_resource
		{"document reference", KindDocument, map[string]any{"model": "reference"}, true, ""},
		{"document reference null threshold", KindDocument, map[string]any{"model": "reference", "threshold": nil}, true, ""},
		{"document reference with threshold", KindDocument, map[string]any{"model": "reference", "threshold": 3}, true, "takes no threshold"},
		{"html5 determined_by_resource", KindHTML5, map[string]any{"model": "determined_by_resource"}, true, ""},
		{"h5p determined_by_resource with threshold", KindH5P, map[string]any{"model": "determined_by_resource", "threshold": 1}, true, "takes no threshold"},

		// learner_managed and unknown keys
		{"learner_managed true", KindVideo, map[string]any{"model": "time", "threshold": 10, "learner_managed": true}, true, ""},
		{"learner_managed null", KindVideo, map[string]any{"model": "time", "threshold": 10, "learner_managed": nil}, true, ""},
		{"learner_managed not bool", KindVideo, map[string]any{"model": "time", "threshold": 10, "learner_managed": "yes"}, true, "true or false"},
		{"unknown key", KindVideo, map[string]any{"model": "time", "threshold": 10, "extra": 1}, true, `do not take "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateCompletionCriteria(tc.kind, tc.cc, tc.full)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			requireBadInput(t, err, tc.wantErr)
		})
	}
}

func TestNormalizeCompletionCriteria(t *testing.T) {
	for _, tc := range []struct {
		name string
		cc   map[string]any
		want map[string]any
	}{
		{"determined_by_resource drops threshold", map[string]any{"model": "determined_by_resource", "threshold": 10, "learner_managed": false}, map[string]any{"model": "determined_by_resource", "learner_managed": false}},
		{"reference drops threshold", map[string]any{"model": "reference", "threshold": nil}, map[string]any{"model": "reference"}},
		{"time keeps threshold", map[string]any{"model": "time", "threshold": 10}, map[string]any{"model": "time", "threshold": 10}},
		{"mastery keeps threshold", map[string]any{"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}, map[string]any{"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NormalizeCompletionCriteria(tc.cc)
			require.Equal(t, tc.want, tc.cc)
		})
	}
	require.NotPanics(t, func() { NormalizeCompletionCriteria(nil) })
}

func TestSwitchToDeterminedByResourceEdgeCase(t *testing.T) {
	// Studio test_update_completion_criteria_model_to_determined_by_resource_edge_case:
	// switching an html5 node from time to determined_by_resource drops the
	// old threshold, and the result then validates in full.
	extra := map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "time", "threshold": 60}}}
	require.NoError(t, SetPath(extra, "options.completion_criteria.model", "determined_by_resource"))
	cc := extra["options"].(map[string]any)["completion_criteria"].(map[string]any)
	requireBadInput(t, ValidateCompletionCriteria(KindHTML5, cc, true), "takes no threshold")
	NormalizeCompletionCriteria(cc)
	require.Equal(t, map[string]any{"model": "determined_by_resource"}, cc)
	require.NoError(t, ValidateCompletionCriteria(KindHTML5, cc, true))
}

func answer(text string, correct bool, order any) map[string]any {
	return map[string]any{"answer": text, "correct": correct, "order": order}
}

func TestValidateAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		typ     string
		answers []any
		wantErr string
	}{
		{"unknown type", "essay", nil, "not known"},
		{"empty type", "", nil, "not known"},
		{"multiple selection none", QuestionMultipleSelection, nil, ""},
		{"multiple selection several correct", QuestionMultipleSelection, []any{answer("a", true, 1), answer("b", true, 2), answer("c", false, 3)}, ""},
		{"multiple selection none correct", QuestionMultipleSelection, []any{answer("a", false, 1)}, ""},
		{"single selection one correct", QuestionSingleSelection, []any{answer("a", false, 1), answer("b", true, 2)}, ""},
		{"single selection empty", QuestionSingleSelection, []any{}, ""},
		{"single selection two correct", QuestionSingleSelection, []any{answer("a", true, 1), answer("b", true, 2)}, "exactly one correct"},
		{"single selection none correct", QuestionSingleSelection, []any{answer("a", false, 1), answer("b", false, 2)}, "exactly one correct"},
		{"true_false is single selection", QuestionTrueFalse, []any{answer("True", true, 1), answer("False", true, 2)}, "exactly one correct"},
		{"input all correct", QuestionInput, []any{answer("4", true, 1), answer("four", true, 2)}, ""},
		{"input with incorrect", QuestionInput, []any{answer("4", true, 1), answer("5", false, 2)}, "must be correct"},
		{"free response none", QuestionFreeResponse, nil, ""},
		{"perseus none", QuestionPerseus, []any{}, ""},
		{"qti none", QuestionQTI, []any{}, ""},
		{"empty answer text allowed", QuestionMultipleSelection, []any{answer("", false, 1)}, ""},
		{"order float64", QuestionMultipleSelection, []any{answer("a", true, 1.0)}, ""},
		{"order int64", QuestionMultipleSelection, []any{answer("a", true, int64(2))}, ""},
		{"order json.Number", QuestionMultipleSelection, []any{answer("a", true, json.Number("3"))}, ""},
		{"order zero", QuestionMultipleSelection, []any{answer("a", true, 0)}, ""},
		{"order fractional", QuestionMultipleSelection, []any{answer("a", true, 1.5)}, "order must be a whole number"},
		{"order json.Number fractional", QuestionMultipleSelection, []any{answer("a", true, json.Number("1.5"))}, "order must be a whole number"},
		{"order negative", QuestionMultipleSelection, []any{answer("a", true, -1)}, "at least 0"},
		{"order string", QuestionMultipleSelection, []any{answer("a", true, "1")}, "order must be a whole number"},
		{"order missing", QuestionMultipleSelection, []any{map[string]any{"answer": "a", "correct": true}}, "needs an order"},
		{"answer not object", QuestionMultipleSelection, []any{"a"}, "answers[0] must be an object"},
		{"answer null", QuestionMultipleSelection, []any{nil}, "answers[0] must be an object"},
		{"answer not string", QuestionMultipleSelection, []any{answer("a", true, 1), map[string]any{"answer": 4, "correct": true, "order": 2}}, "answers[1].answer must be a string"},
		{"answer missing", QuestionMultipleSelection, []any{map[string]any{"correct": true, "order": 1}}, "answers[0].answer must be a string"},
		{"correct missing", QuestionMultipleSelection, []any{map[string]any{"answer": "a", "order": 1}}, "correct must be true or false"},
		{"correct not bool", QuestionMultipleSelection, []any{map[string]any{"answer": "a", "correct": "true", "order": 1}}, "correct must be true or false"},
		{"unknown key", QuestionMultipleSelection, []any{map[string]any{"answer": "a", "correct": true, "order": 1, "hint": "x"}}, `unknown key "hint"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateAnswers(tc.typ, tc.answers)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			requireBadInput(t, err, tc.wantErr)
		})
	}
}

func TestValidateHints(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hints   []any
		wantErr string
	}{
		{"none", nil, ""},
		{"empty", []any{}, ""},
		{"two", []any{map[string]any{"hint": "look", "order": 1}, map[string]any{"hint": "", "order": 2.0}}, ""},
		{"json.Number order", []any{map[string]any{"hint": "a", "order": json.Number("1")}}, ""},
		{"not object", []any{"look"}, "hints[0] must be an object"},
		{"hint not string", []any{map[string]any{"hint": 1, "order": 1}}, "hints[0].hint must be a string"},
		{"hint missing", []any{map[string]any{"order": 1}}, "hints[0].hint must be a string"},
		{"order missing", []any{map[string]any{"hint": "a"}}, "hints[0] needs an order"},
		{"order fractional", []any{map[string]any{"hint": "a", "order": 0.5}}, "whole number"},
		{"unknown key", []any{map[string]any{"hint": "a", "order": 1, "correct": true}}, `unknown key "correct"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateHints(tc.hints)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			requireBadInput(t, err, tc.wantErr)
		})
	}
}

func TestItemComplete(t *testing.T) {
	for _, tc := range []struct {
		name string
		it   *AssessmentItem
		want bool
	}{
		{"nil", nil, false},
		{"empty", &AssessmentItem{Type: QuestionMultipleSelection}, false},
		{"raw data only", &AssessmentItem{Type: QuestionPerseus, RawData: `{"question":{}}`}, true},
		{"qti raw data", &AssessmentItem{Type: QuestionQTI, RawData: "<qti/>"}, true},
		{"single selection with correct", &AssessmentItem{Type: QuestionSingleSelection, Question: "2+2?", Answers: []any{answer("4", true, 1), answer("5", false, 2)}}, true},
		{"no question", &AssessmentItem{Type: QuestionSingleSelection, Answers: []any{answer("4", true, 1)}}, false},
		{"no answers", &AssessmentItem{Type: QuestionMultipleSelection, Question: "q"}, false},
		{"no correct answer", &AssessmentItem{Type: QuestionMultipleSelection, Question: "q", Answers: []any{answer("a", false, 1)}}, false},
		{"input question needs answers", &AssessmentItem{Type: QuestionInput, Question: "q"}, false},
		{"input question any answers", &AssessmentItem{Type: QuestionInput, Question: "q", Answers: []any{answer("4", false, 1)}}, true},
		{"free response without answers", &AssessmentItem{Type: QuestionFreeResponse, Question: "Why?"}, true},
		{"free response without question", &AssessmentItem{Type: QuestionFreeResponse}, false},
		{"correct must be boolean true", &AssessmentItem{Type: QuestionMultipleSelection, Question: "q", Answers: []any{map[string]any{"answer": "a", "correct": "true"}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ItemComplete(tc.it))
		})
	}
}

func TestCompletenessErrors(t *testing.T) {
	file := func(preset string) *File { return &File{PresetID: preset} }
	okItem := &AssessmentItem{Type: QuestionSingleSelection, Question: "2+2?", Answers: []any{answer("4", true, 1), answer("5", false, 2)}}
	badItem := &AssessmentItem{Type: QuestionSingleSelection, Question: "2+2?"}
	masteryExtra := func(th map[string]any) map[string]any {
		return map[string]any{"randomize": true, "options": map[string]any{"completion_criteria": map[string]any{"model": "mastery", "threshold": th}}}
	}
	video := func(mod func(n *ContentNode)) *ContentNode {
		n := &ContentNode{Kind: KindVideo, Title: "Clip", LicenseName: "CC BY", CopyrightHolder: "Someone"}
		if mod != nil {
			mod(n)
		}
		return n
	}
	exercise := func(extra map[string]any) *ContentNode {
		return &ContentNode{Kind: KindExercise, Title: "Ex", LicenseName: "CC BY", CopyrightHolder: "Someone", ExtraFields: extra}
	}
	mainFiles := []*File{file("high_res_video")}

	for _, tc := range []struct {
		name   string
		node   *ContentNode
		isRoot bool
		files  []*File
		items  []*AssessmentItem
		want   []string // substrings, one per expected error; nil = complete
	}{
		{"nil node", nil, false, nil, nil, []string{"missing"}},

		// titles and topics
		{"root with empty title complete", &ContentNode{Kind: KindTopic}, true, nil, nil, nil},
		{"topic with empty title", &ContentNode{Kind: KindTopic}, false, nil, nil, []string{"a title is required"}},
		{"topic with blank title", &ContentNode{Kind: KindTopic, Title: "  "}, false, nil, nil, []string{"a title is required"}},
		{"topic needs no license or files", &ContentNode{Kind: KindTopic, Title: "T"}, false, nil, nil, nil},

		// files
		{"video with file, CC BY and holder complete", video(nil), false, mainFiles, nil, nil},
		{"video without file", video(nil), false, nil, nil, []string{"a resource file is required"}},
		{"video with only thumbnail", video(nil), false, []*File{file("video_thumbnail"), file("video_subtitle")}, nil, []string{"a resource file is required"}},
		{"video with unknown preset", video(nil), false, []*File{file("nope"), nil}, nil, []string{"a resource file is required"}},
		{"document file", &ContentNode{Kind: KindDocument, Title: "D", LicenseName: "CC BY-SA", CopyrightHolder: "X"}, false, []*File{file("document_thumbnail"), file("document")}, nil, nil},

		// licenses
		{"no license", video(func(n *ContentNode) { n.LicenseName = "" }), false, mainFiles, nil, []string{"a license is required"}},
		{"unknown license", video(func(n *ContentNode) { n.LicenseName = "WTFPL" }), false, mainFiles, nil, []string{"not a known license"}},
		{"CC BY without holder", video(func(n *ContentNode) { n.CopyrightHolder = "" }), false, mainFiles, nil, []string{"copyright holder is required"}},
		{
			"special permissions without description",
			video(func(n *ContentNode) { n.LicenseName = "Special Permissions" }), false, mainFiles, nil,
			[]string{"needs a license description"},
		},
		{
			"special permissions with description",
			video(func(n *ContentNode) { n.LicenseName = "Special Permissions"; n.LicenseDescription = "Ask us" }), false, mainFiles, nil, nil,
		},
		{
			"public domain without holder complete",
			video(func(n *ContentNode) { n.LicenseName = "Public Domain"; n.CopyrightHolder = "" }), false, mainFiles, nil, nil,
		},
		{
			"many problems at once",
			&ContentNode{Kind: KindAudio, LicenseName: "Special Permissions"}, false, nil, nil,
			[]string{"a title is required", "license description", "copyright holder", "a resource file is required"},
		},

		// exercises
		{"exercise without mastery model", exercise(map[string]any{"randomize": true}), false, nil, []*AssessmentItem{okItem}, []string{"a mastery model is required"}},
		{"exercise with mastery and complete item", exercise(masteryExtra(map[string]any{"mastery_model": "do_all"})), false, nil, []*AssessmentItem{okItem}, nil},
		{"exercise with legacy mastery model", exercise(map[string]any{"mastery_model": "num_correct_in_a_row_5"}), false, nil, []*AssessmentItem{badItem, okItem}, nil},
		{"exercise with unknown legacy mastery model", exercise(map[string]any{"mastery_model": "lots"}), false, nil, []*AssessmentItem{okItem}, []string{`mastery model "lots" is not known`}},
		{"exercise without items", exercise(masteryExtra(map[string]any{"mastery_model": "do_all"})), false, nil, nil, []string{"complete question"}},
		{"exercise with only incomplete items", exercise(masteryExtra(map[string]any{"mastery_model": "do_all"})), false, nil, []*AssessmentItem{badItem, nil}, []string{"complete question"}},
		{"exercise needs no file", exercise(masteryExtra(map[string]any{"mastery_model": "do_all"})), false, nil, []*AssessmentItem{okItem}, nil},
		{"exercise m_of_n m > n", exercise(masteryExtra(map[string]any{"mastery_model": "m_of_n", "m": 6, "n": 5})), false, nil, []*AssessmentItem{okItem}, []string{"m ≤ n"}},
		{
			"exercise with invalid non-mastery criteria",
			exercise(map[string]any{"mastery_model": "do_all", "options": map[string]any{"completion_criteria": map[string]any{"model": "time", "threshold": 5}}}),
			false, nil, []*AssessmentItem{okItem}, []string{"not allowed for exercise"},
		},

		// completion criteria on resources
		{
			"video with valid criteria",
			video(func(n *ContentNode) {
				n.ExtraFields = map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "time", "threshold": 30}}}
			}), false, mainFiles, nil, nil,
		},
		{
			"video with mastery criteria",
			video(func(n *ContentNode) {
				n.ExtraFields = map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}}}
			}), false, mainFiles, nil, []string{"not allowed for video"},
		},
		{
			"video with criteria missing threshold",
			video(func(n *ContentNode) {
				n.ExtraFields = map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "time"}}}
			}), false, mainFiles, nil, []string{"needs a threshold"},
		},
		{
			"criteria not an object",
			video(func(n *ContentNode) {
				n.ExtraFields = map[string]any{"options": map[string]any{"completion_criteria": "time"}}
			}),
			false, mainFiles, nil, []string{"must be an object"},
		},
		{
			"null criteria count as absent",
			video(func(n *ContentNode) {
				n.ExtraFields = map[string]any{"options": map[string]any{"completion_criteria": nil}}
			}),
			false, mainFiles, nil, nil,
		},

		// topics and units
		{
			"unit without criteria",
			&ContentNode{Kind: KindTopic, Title: "U", ExtraFields: map[string]any{"options": map[string]any{"modality": "UNIT"}}},
			false, nil, nil, []string{"a unit needs completion criteria"},
		},
		{
			"unit with pre_post_test",
			&ContentNode{Kind: KindTopic, Title: "U", ExtraFields: map[string]any{"options": map[string]any{"modality": "UNIT", "completion_criteria": map[string]any{
				"model": "mastery", "threshold": map[string]any{"mastery_model": "pre_post_test"},
			}}}},
			false, nil, nil, nil,
		},
		{
			"unit with do_all",
			&ContentNode{Kind: KindTopic, Title: "U", ExtraFields: map[string]any{"options": map[string]any{"modality": "UNIT", "completion_criteria": map[string]any{
				"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"},
			}}}},
			false, nil, nil, []string{"pre_post_test"},
		},
		{
			"plain topic with criteria",
			&ContentNode{Kind: KindTopic, Title: "T", ExtraFields: map[string]any{"options": map[string]any{"completion_criteria": map[string]any{
				"model": "mastery", "threshold": map[string]any{"mastery_model": "pre_post_test"},
			}}}},
			false, nil, nil, []string{"only a topic with modality UNIT"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CompletenessErrors(tc.node, tc.isRoot, tc.files, tc.items)
			require.Equal(t, len(tc.want) == 0, IsComplete(tc.node, tc.isRoot, tc.files, tc.items))
			if len(tc.want) == 0 {
				require.Nil(t, got)
				return
			}
			require.Len(t, got, len(tc.want), "errors: %q", got)
			for i, w := range tc.want {
				require.Contains(t, got[i], w)
			}
		})
	}
}

func TestJSONNumbers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v     any
		want  int64
		isInt bool
	}{
		{"int", 3, 3, true},
		{"int32", int32(3), 3, true},
		{"int64", int64(3), 3, true},
		{"uint8", uint8(3), 3, true},
		{"float64 integral", 3.0, 3, true},
		{"float32 integral", float32(3), 3, true},
		{"json.Number int", json.Number("3"), 3, true},
		{"json.Number integral float", json.Number("3.0"), 3, true},
		{"float64 fractional", 3.5, 0, false},
		{"json.Number fractional", json.Number("3.5"), 0, false},
		{"json.Number garbage", json.Number("x"), 0, false},
		{"string", "3", 0, false},
		{"bool", true, 0, false},
		{"nil", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := jsonInt(tc.v)
			require.Equal(t, tc.isInt, ok)
			require.Equal(t, tc.want, got)
		})
	}
}
