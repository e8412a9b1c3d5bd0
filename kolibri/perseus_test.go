package kolibri_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/kolibri"
	"studio/models"
)

const (
	imgA = "0123456789abcdef0123456789abcdef.png"
	imgB = "fedcba9876543210fedcba9876543210.jpg"
)

// store serves imgA and imgB and counts how often each is asked for.
type store map[string]int

func (s store) image(name string) ([]byte, error) {
	s[name]++
	switch name {
	case imgA, imgB:
		return []byte("bytes of " + name), nil
	}
	return nil, models.Errorf(models.CodeNotFound, "no file %s", name)
}

func answer(text any, correct bool, order int) map[string]any {
	return map[string]any{"answer": text, "correct": correct, "order": order}
}

func hint(text string, order int) map[string]any {
	return map[string]any{"hint": text, "order": order}
}

func item(typ string, question string, answers ...any) *models.AssessmentItem {
	return &models.AssessmentItem{AssessmentID: models.NewID(), Type: typ, Question: question, Answers: answers}
}

// unzip returns the archive's entry names in order and their contents.
func unzip(t *testing.T, data []byte) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	var names []string
	files := map[string][]byte{}
	for _, f := range zr.File {
		require.Equal(t, zip.Store, f.Method, f.Name)
		require.Equal(t, time.Date(2013, 3, 14, 1, 59, 26, 0, time.UTC), f.Modified.UTC(), f.Name)
		require.Equal(t, "Perseus file generated during export process", f.Comment, f.Name)
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		names = append(names, f.Name)
		files[f.Name] = b
	}
	return names, files
}

func parse(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), string(b))
	return v
}

// widget is the item's only widget, by name.
func widget(t *testing.T, it map[string]any, name string) map[string]any {
	t.Helper()
	w, ok := it["question"].(map[string]any)["widgets"].(map[string]any)[name].(map[string]any)
	require.True(t, ok, "widget %q in %v", name, it)
	return w
}

func TestPerseusItems(t *testing.T) {
	cases := []struct {
		name  string
		item  *models.AssessmentItem
		hints []any
		check func(t *testing.T, it map[string]any)
	}{
		{
			name: "single selection",
			item: item(models.QuestionSingleSelection, "2+2? <b>&</b>",
				answer("5", false, 2), answer("4", true, 1), answer("", false, 0)),
			hints: []any{hint("it is $$x$$", 2), hint("count", 1)},
			check: func(t *testing.T, it map[string]any) {
				q := it["question"].(map[string]any)
				require.Equal(t, "2+2? <b>&</b>\n\n[[☃ radio 1]]", q["content"])
				w := widget(t, it, "radio 1")
				require.Equal(t, "radio", w["type"])
				opts := w["options"].(map[string]any)
				require.Equal(t, false, opts["multipleSelect"])
				require.Equal(t, true, opts["randomize"])
				require.Nil(t, opts["displayCount"])
				require.Equal(t, []any{
					map[string]any{"correct": true, "content": "4", "images": map[string]any{}},
					map[string]any{"correct": false, "content": "5", "images": map[string]any{}},
				}, opts["choices"], "sorted by order, the empty answer dropped")
				require.Equal(t, "multiple", it["answerArea"].(map[string]any)["type"])
				require.Equal(t, []any{
					map[string]any{"widgets": map[string]any{}, "images": map[string]any{}, "content": "count", "replace": false},
					map[string]any{"widgets": map[string]any{}, "images": map[string]any{}, "content": "it is $x$", "replace": false},
				}, it["hints"], "sorted by order, $$ made $")
			},
		},
		{
			name: "multiple selection",
			item: item(models.QuestionMultipleSelection, "Evens?",
				answer("2", true, 0), answer("3", false, 1), answer("4", true, 2)),
			check: func(t *testing.T, it map[string]any) {
				opts := widget(t, it, "radio 1")["options"].(map[string]any)
				require.Equal(t, true, opts["multipleSelect"])
				require.Len(t, opts["choices"], 3)
				require.Equal(t, []any{}, it["hints"])
			},
		},
		{
			name: "true false",
			item: item(models.QuestionTrueFalse, "Sky is blue?", answer("True", true, 0), answer("False", false, 1)),
			check: func(t *testing.T, it map[string]any) {
				opts := widget(t, it, "radio 1")["options"].(map[string]any)
				require.Equal(t, false, opts["multipleSelect"])
				require.Len(t, opts["choices"], 2)
			},
		},
		{
			name: "input question",
			item: item(models.QuestionInput, "How many?",
				answer("1,000", true, 0), answer("", true, 1), answer("1/2", true, 2), answer("lots", true, 3),
				answer("1 1/2", true, 4), answer("25%", true, 5), answer("1.5e3", true, 6), answer("-0.25", true, 7)),
			check: func(t *testing.T, it map[string]any) {
				require.Equal(t, "How many?\n\n[[☃ numeric-input 1]]", it["question"].(map[string]any)["content"])
				w := widget(t, it, "numeric-input 1")
				require.Equal(t, "numeric-input", w["type"])
				var values []any
				for _, a := range w["options"].(map[string]any)["answers"].([]any) {
					a := a.(map[string]any)
					require.Equal(t, "correct", a["status"])
					values = append(values, a["value"])
				}
				require.Equal(t, []any{1000.0, 0.5, 1.5, 0.25, 1500.0, -0.25}, values, "empty and non-numeric answers dropped")
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.item.Randomize = true
			c.item.Hints = c.hints
			data, err := kolibri.PerseusArchive(kolibri.Exercise{MasteryModel: "do_all", Items: []*models.AssessmentItem{c.item}}, store{}.image)
			require.NoError(t, err)
			names, files := unzip(t, data)
			id := c.item.AssessmentID.String()
			require.Equal(t, []string{"exercise.json", id + ".json"}, names)
			c.check(t, parse(t, files[id+".json"]))
		})
	}
}

func TestPerseusExerciseJSON(t *testing.T) {
	items := []*models.AssessmentItem{
		item(models.QuestionTrueFalse, "a", answer("True", true, 0)),
		item(models.QuestionMultipleSelection, "b", answer("x", true, 0)),
		item(models.QuestionInput, "c", answer("1", true, 0)),
	}
	ids := []any{items[0].AssessmentID.String(), items[1].AssessmentID.String(), items[2].AssessmentID.String()}
	cases := []struct {
		model string
		m, n  int
		wantM any
		wantN any
	}{
		{"do_all", 0, 0, 3.0, 3.0},
		{"m_of_n", 2, 4, 2.0, 4.0},
		{"m_of_n", 0, 0, 3.0, 3.0}, // min(5, 3 questions)
		{"", 0, 0, 3.0, 3.0},
		{"num_correct_in_a_row_5", 1, 1, 5.0, 5.0},
		{"num_correct_in_a_row_10", 0, 0, 10.0, 10.0},
		{"quiz", 0, 0, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			data, err := kolibri.PerseusArchive(kolibri.Exercise{MasteryModel: c.model, M: c.m, N: c.n, Randomize: true, Items: items}, store{}.image)
			require.NoError(t, err)
			names, files := unzip(t, data)
			require.Equal(t, []string{"exercise.json", ids[0].(string) + ".json", ids[1].(string) + ".json", ids[2].(string) + ".json"}, names)
			legacy := c.model
			if legacy == "" {
				legacy = "m_of_n"
			}
			require.Equal(t, map[string]any{
				"all_assessment_items": ids,
				"assessment_mapping": map[string]any{
					ids[0].(string): "single_selection", // true_false is single_selection to Kolibri
					ids[1].(string): "multiple_selection",
					ids[2].(string): "input_question",
				},
				"mastery_model":        "m_of_n",
				"legacy_mastery_model": legacy,
				"m":                    c.wantM,
				"n":                    c.wantN,
				"randomize":            true,
			}, parse(t, files["exercise.json"]))
		})
	}
}

func TestPerseusDeterministic(t *testing.T) {
	ex := kolibri.Exercise{MasteryModel: "m_of_n", M: 1, N: 2, Items: []*models.AssessmentItem{
		item(models.QuestionSingleSelection, "![a](${☣ CONTENTSTORAGE}/"+imgA+")", answer("x", true, 0), answer("y", false, 1)),
		item(models.QuestionInput, "q", answer("3", true, 0)),
	}}
	first, err := kolibri.PerseusArchive(ex, store{}.image)
	require.NoError(t, err)
	second, err := kolibri.PerseusArchive(ex, store{}.image)
	require.NoError(t, err)
	require.Equal(t, first, second)
}

func TestPerseusImages(t *testing.T) {
	ref := func(name, size string) string { return "![pic](${☣ CONTENTSTORAGE}/" + name + size + ")" }
	local := "${☣ LOCALPATH}/images/"
	it := item(models.QuestionSingleSelection, "See "+ref(imgA, " =100x50.5")+" and "+ref(imgA, ""),
		answer(ref(imgB, ""), true, 0), answer("plain", false, 1))
	it.Hints = []any{hint("Look: "+ref(imgB, " =20x30"), 0)}
	raw := item(models.QuestionPerseus, "")
	raw.RawData = `{"question":{"content":"![](${☣ CONTENTSTORAGE}/` + imgA + `)","images":{"${☣ CONTENTSTORAGE}/` + imgA + `":{"width":1,"height":2}}}}`

	s := store{}
	data, err := kolibri.PerseusArchive(kolibri.Exercise{MasteryModel: "do_all", Items: []*models.AssessmentItem{it, raw}}, s.image)
	require.NoError(t, err)
	require.Equal(t, store{imgA: 1, imgB: 1}, s, "each image is fetched once")
	names, files := unzip(t, data)
	require.Equal(t, []string{"exercise.json", "images/" + imgA, "images/" + imgB,
		it.AssessmentID.String() + ".json", raw.AssessmentID.String() + ".json"}, names)
	require.Equal(t, []byte("bytes of "+imgA), files["images/"+imgA])
	require.Equal(t, []byte("bytes of "+imgB), files["images/"+imgB])

	got := parse(t, files[it.AssessmentID.String()+".json"])
	q := got["question"].(map[string]any)
	require.Equal(t, "See ![pic]("+local+imgA+") and ![pic]("+local+imgA+")\n\n[[☃ radio 1]]", q["content"])
	require.Equal(t, map[string]any{local + imgA: map[string]any{"width": 100.0, "height": 50.5}}, q["images"])
	choices := widget(t, got, "radio 1")["options"].(map[string]any)["choices"].([]any)
	require.Equal(t, "![pic]("+local+imgB+")", choices[0].(map[string]any)["content"])
	require.Equal(t, map[string]any{}, choices[0].(map[string]any)["images"], "no size, no entry")
	h := got["hints"].([]any)[0].(map[string]any)
	require.Equal(t, "Look: ![pic]("+local+imgB+")", h["content"])
	require.Equal(t, map[string]any{local + imgB: map[string]any{"width": 20.0, "height": 30.0}}, h["images"])

	require.Equal(t, strings.ReplaceAll(raw.RawData, "${☣ CONTENTSTORAGE}", "${☣ LOCALPATH}/images"),
		string(files[raw.AssessmentID.String()+".json"]), "raw data as is, references rewritten")
}

func TestPerseusErrors(t *testing.T) {
	badRaw := item(models.QuestionPerseus, "")
	badRaw.RawData = "{not json"
	cases := []struct {
		name string
		item *models.AssessmentItem
		code models.Code
		says string
	}{
		{"unknown type", item("essay", "Why?", answer("x", true, 0)), models.CodeBadUserInput, "has type \"essay\""},
		{"qti", item(models.QuestionQTI, "Why?"), models.CodeBadUserInput, "has type \"QTI\""},
		{"free response", item(models.QuestionFreeResponse, "Why?"), models.CodeBadUserInput, "free response"},
		{"no correct answer", item(models.QuestionSingleSelection, "Pick", answer("a", false, 0), answer("b", false, 1)),
			models.CodeBadUserInput, "mark at least one of its answers correct"},
		{"only an empty correct answer", item(models.QuestionMultipleSelection, "Pick", answer("", true, 0), answer("b", false, 1)),
			models.CodeBadUserInput, "no correct answer"},
		{"no answers", item(models.QuestionTrueFalse, "Pick"), models.CodeBadUserInput, "no correct answer"},
		{"no numeric answer", item(models.QuestionInput, "How many?", answer("many", true, 0)), models.CodeBadUserInput, "numeric answer"},
		{"image not a stored name", item(models.QuestionSingleSelection, "![x](${☣ CONTENTSTORAGE}/cat.png)", answer("a", true, 0)),
			models.CodeBadUserInput, "cat.png"},
		{"image without extension", item(models.QuestionSingleSelection, "![x](${☣ CONTENTSTORAGE}/abcdef)", answer("a", true, 0)),
			models.CodeBadUserInput, "abcdef"},
		{"image missing from storage", item(models.QuestionSingleSelection, "![x](${☣ CONTENTSTORAGE}/abcdef.png)", answer("a", true, 0)),
			models.CodeNotFound, "abcdef.png"},
		{"raw data not json", badRaw, models.CodeBadUserInput, "not JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok := item(models.QuestionSingleSelection, "fine", answer("a", true, 0))
			_, err := kolibri.PerseusArchive(kolibri.Exercise{MasteryModel: "do_all", Items: []*models.AssessmentItem{ok, c.item}}, store{}.image)
			require.Error(t, err)
			require.Equal(t, c.code, models.CodeOf(err), err.Error())
			require.Contains(t, err.Error(), c.item.AssessmentID.String(), "names the question")
			require.Contains(t, err.Error(), c.says)
		})
	}

	t.Run("duplicate assessment id", func(t *testing.T) {
		a := item(models.QuestionSingleSelection, "q", answer("a", true, 0))
		_, err := kolibri.PerseusArchive(kolibri.Exercise{Items: []*models.AssessmentItem{a, a}}, store{}.image)
		require.Error(t, err)
	})

	t.Run("image error is wrapped", func(t *testing.T) {
		boom := errors.New("boom")
		it := item(models.QuestionSingleSelection, "![x](${☣ CONTENTSTORAGE}/"+imgA+")", answer("a", true, 0))
		_, err := kolibri.PerseusArchive(kolibri.Exercise{Items: []*models.AssessmentItem{it}},
			func(string) ([]byte, error) { return nil, boom })
		require.ErrorIs(t, err, boom)
	})
}
