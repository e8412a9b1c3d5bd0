package kolibri

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"studio/models"
)

// Exercise is what an exercise's archive is made from.
type Exercise struct {
	MasteryModel string // e.g. "do_all", "m_of_n", "num_correct_in_a_row_5"
	M, N         int
	Randomize    bool
	Items        []*models.AssessmentItem // in order
}

// Placeholders in question text. Studio stores image references under the
// content-storage placeholder; Kolibri's Perseus renderer resolves the
// local-path one to the archive's own folder.
const (
	contentStoragePlaceholder = "${☣ CONTENTSTORAGE}"
	perseusImageDir           = "images"
	perseusImagePrefix        = "${☣ LOCALPATH}/" + perseusImageDir
)

// Studio's Perseus generator writes every entry with this time, this comment
// and no compression, so an unchanged exercise gives the same bytes (and md5).
var perseusZipTime = time.Date(2013, 3, 14, 1, 59, 26, 0, time.UTC)

const perseusZipComment = "Perseus file generated during export process"

var (
	// perseusImageRef is a markdown image in content storage, with an
	// optional " =WxH" size, as Studio's exporter matches it.
	perseusImageRef = regexp.MustCompile(`!\[([^\]]*)\]\(\$\{☣ CONTENTSTORAGE\}/([^\s)]+)(?:\s=([0-9.]+)x([0-9.]+))*[^)]*\)`)
	// perseusRawImageRef is any content-storage reference to a stored file
	// inside a raw Perseus item's JSON.
	perseusRawImageRef = regexp.MustCompile(`\$\{☣ CONTENTSTORAGE\}/([0-9a-fA-F]+\.[0-9A-Za-z]+)`)
	// perseusStoredName is "<md5>.<ext>", the only kind of name image() can serve.
	perseusStoredName = regexp.MustCompile(`^[0-9a-fA-F]+\.[0-9A-Za-z]+$`)
	// perseusDisplayMath is $$…$$, which Perseus does not know; it wants $…$.
	perseusDisplayMath = regexp.MustCompile(`(?s)\$\$(.+?)\$\$`)
)

// PerseusArchive builds the exercise's .perseus zip. image returns the bytes of a
// stored file named "<md5>.<ext>" that a question, answer or hint refers to.
//
// The zip holds exercise.json first, then for each item in order the images
// it adds (images/<md5>.<ext>, each once) and <assessment_id>.json.
func PerseusArchive(ex Exercise, image func(name string) ([]byte, error)) ([]byte, error) {
	b := &perseusBuilder{image: image, written: map[string]bool{}}
	exercise, err := perseusJSON(perseusExerciseData(ex))
	if err != nil {
		return nil, err
	}
	b.add("exercise.json", exercise)
	for i, it := range ex.Items {
		if it == nil {
			return nil, fmt.Errorf("perseus: item %d is nil", i)
		}
		name := it.AssessmentID.String() + ".json"
		if b.written[name] {
			return nil, fmt.Errorf("perseus: two items share assessment id %s", it.AssessmentID)
		}
		data, err := b.item(it)
		if err != nil {
			return nil, err
		}
		b.add(name, data)
	}
	return perseusZip(b.entries)
}

// perseusExerciseData is exercise.json as Studio's publish builds it. Studio
// always writes mastery_model "m_of_n" there and keeps the real one in
// legacy_mastery_model; m and n follow the real one.
func perseusExerciseData(ex Exercise) map[string]any {
	count := len(ex.Items)
	ids := make([]string, count)
	mapping := make(map[string]string, count)
	for i, it := range ex.Items {
		if it == nil {
			continue // PerseusArchive reports it
		}
		ids[i] = it.AssessmentID.String()
		typ := it.Type
		if typ == models.QuestionTrueFalse {
			typ = models.QuestionSingleSelection // Kolibri knows no true_false
		}
		mapping[ids[i]] = typ
	}
	// Five questions, or all of them when there are fewer, but never zero.
	fallback := max(min(5, count), 1)
	model := ex.MasteryModel
	if model == "" {
		model = models.MasteryMOfN
	}
	var m, n any // null for models without a fixed m and n, as Studio writes them
	switch model {
	case models.MasteryMOfN:
		m, n = fallback, fallback
		if ex.M > 0 {
			m = ex.M
		}
		if ex.N > 0 {
			n = ex.N
		}
	case models.MasteryDoAll:
		m, n = max(count, 1), max(count, 1)
	case models.MasteryNumCorrectInARow2:
		m, n = 2, 2
	case models.MasteryNumCorrectInARow3:
		m, n = 3, 3
	case models.MasteryNumCorrectInARow5:
		m, n = 5, 5
	case models.MasteryNumCorrectInARow10:
		m, n = 10, 10
	}
	return map[string]any{
		"all_assessment_items": ids,
		"assessment_mapping":   mapping,
		"legacy_mastery_model": model,
		"mastery_model":        models.MasteryMOfN,
		"m":                    m,
		"n":                    n,
		"randomize":            ex.Randomize,
	}
}

type perseusEntry struct {
	name string
	data []byte
}

type perseusBuilder struct {
	image   func(name string) ([]byte, error)
	entries []perseusEntry
	written map[string]bool
}

func (b *perseusBuilder) add(name string, data []byte) {
	b.entries = append(b.entries, perseusEntry{name, data})
	b.written[name] = true
}

// addImage copies a stored file into images/, once however often it is used.
func (b *perseusBuilder) addImage(it *models.AssessmentItem, name string) error {
	path := perseusImageDir + "/" + name
	if b.written[path] {
		return nil
	}
	data, err := b.image(name)
	if err != nil {
		return fmt.Errorf("perseus: question %s: image %s: %w", it.AssessmentID, name, err)
	}
	b.add(path, data)
	return nil
}

// item is the Perseus JSON of one question.
func (b *perseusBuilder) item(it *models.AssessmentItem) ([]byte, error) {
	id := it.AssessmentID
	switch it.Type {
	case models.QuestionSingleSelection, models.QuestionMultipleSelection, models.QuestionTrueFalse:
		return b.radioItem(it)
	case models.QuestionInput:
		return b.numericItem(it)
	case models.QuestionPerseus:
		return b.rawItem(it)
	case models.QuestionFreeResponse:
		// Studio has no Perseus template for it either: it publishes such
		// exercises as QTI, which this archive is not.
		return nil, models.Errorf(models.CodeBadUserInput,
			"question %s is a free response question, which Kolibri's Perseus exercises cannot show; change it to another question type or remove it", id)
	default:
		return nil, models.Errorf(models.CodeBadUserInput,
			"question %s has type %q, which a Perseus exercise cannot hold; change it to single_selection, multiple_selection, input_question or perseus_question", id, it.Type)
	}
}

// radioItem is Studio's multiple_selection template: one radio widget, with
// multipleSelect only for multiple_selection.
func (b *perseusBuilder) radioItem(it *models.AssessmentItem) ([]byte, error) {
	question, questionImages, err := b.content(it, it.Question)
	if err != nil {
		return nil, err
	}
	var choices []perseusChoice
	hasCorrect := false
	for _, a := range perseusSorted(it.Answers) {
		text, ok := perseusAnswerText(a["answer"])
		if !ok {
			continue // Studio drops empty answers
		}
		content, images, err := b.content(it, text)
		if err != nil {
			return nil, err
		}
		correct := a["correct"] == true
		hasCorrect = hasCorrect || correct
		choices = append(choices, perseusChoice{Correct: correct, Content: content, Images: images})
	}
	if !hasCorrect {
		return nil, models.Errorf(models.CodeBadUserInput,
			"question %s has no correct answer; mark at least one of its answers correct", it.AssessmentID)
	}
	hints, err := b.hints(it)
	if err != nil {
		return nil, err
	}
	return perseusJSON(perseusItem{
		Question: perseusRenderer{
			Content: question + "\n\n[[☃ radio 1]]",
			Images:  questionImages,
			Widgets: map[string]any{"radio 1": perseusRadio{
				Type:   "radio",
				Graded: true,
				Options: perseusRadioOptions{
					Choices:        choices,
					Randomize:      it.Randomize,
					MultipleSelect: it.Type == models.QuestionMultipleSelection,
					OnePerLine:     true,
				},
				Version: perseusVersion{Major: 1, Minor: 0},
			}},
		},
		AnswerArea: map[string]any{
			"type":          "multiple",
			"options":       map[string]any{"content": "", "images": map[string]any{}, "widgets": map[string]any{}},
			"calculator":    false,
			"periodicTable": false,
		},
		ItemDataVersion: perseusVersion{Major: 0, Minor: 1},
		Hints:           hints,
	})
}

// numericItem is Studio's input_question template: one numeric-input
// widget whose answers are the answers that read as numbers.
func (b *perseusBuilder) numericItem(it *models.AssessmentItem) ([]byte, error) {
	question, questionImages, err := b.content(it, it.Question)
	if err != nil {
		return nil, err
	}
	var answers []perseusNumericAnswer
	for _, a := range perseusSorted(it.Answers) {
		value, ok := perseusAnswerNumber(a["answer"])
		if !ok {
			continue // Studio drops answers that are empty or not numbers
		}
		answers = append(answers, perseusNumericAnswer{
			Value:       value,
			Status:      "correct",
			Simplify:    true,
			AnswerForms: []string{"proper", "mixed", "integer", "decimal", "improper"},
		})
	}
	if len(answers) == 0 {
		return nil, models.Errorf(models.CodeBadUserInput,
			"question %s has no answer that is a number; give it at least one numeric answer", it.AssessmentID)
	}
	hints, err := b.hints(it)
	if err != nil {
		return nil, err
	}
	return perseusJSON(perseusItem{
		Question: perseusRenderer{
			Content: question + "\n\n[[☃ numeric-input 1]]",
			Images:  questionImages,
			Widgets: map[string]any{"numeric-input 1": perseusNumeric{
				Type:      "numeric-input",
				Alignment: "default",
				Graded:    true,
				Options: perseusNumericOptions{
					Answers: answers,
					Size:    "normal",
				},
				Version: perseusVersion{Major: 0, Minor: 0},
			}},
		},
		AnswerArea: map[string]any{
			"calculator":    false,
			"chi2Table":     false,
			"periodicTable": false,
			"tTable":        false,
			"zTable":        false,
		},
		ItemDataVersion: perseusVersion{Major: 0, Minor: 1},
		Hints:           hints,
	})
}

// rawItem is a perseus_question: its raw_data as is, with content-storage
// references pointed at the archive's images folder. Studio copies the
// item's attached image files; we copy the stored files its JSON refers to.
func (b *perseusBuilder) rawItem(it *models.AssessmentItem) ([]byte, error) {
	if !json.Valid([]byte(it.RawData)) {
		return nil, models.Errorf(models.CodeBadUserInput,
			"question %s is a Perseus question whose raw data is not JSON; fix or re-import its raw data", it.AssessmentID)
	}
	for _, m := range perseusRawImageRef.FindAllStringSubmatch(it.RawData, -1) {
		if err := b.addImage(it, m[1]); err != nil {
			return nil, err
		}
	}
	return []byte(strings.ReplaceAll(it.RawData, contentStoragePlaceholder, perseusImagePrefix)), nil
}

// hints are the item's hints in order, as Studio's templates render them.
func (b *perseusBuilder) hints(it *models.AssessmentItem) ([]perseusHint, error) {
	hints := []perseusHint{}
	for _, h := range perseusSorted(it.Hints) {
		text, _ := h["hint"].(string)
		content, images, err := b.content(it, text)
		if err != nil {
			return nil, err
		}
		hints = append(hints, perseusHint{Widgets: map[string]any{}, Images: images, Content: content})
	}
	return hints, nil
}

// content prepares markdown for Perseus: $$…$$ becomes $…$, and each stored
// image is copied into the archive and its reference rewritten. A " =WxH"
// size goes into the returned images map, where Perseus reads sizes; it is
// dropped from the markdown. Unlike Studio we do not resize the image to
// that size: the renderer scales it, and the bytes stay the stored file's.
func (b *perseusBuilder) content(it *models.AssessmentItem, text string) (string, perseusImages, error) {
	text = perseusDisplayMath.ReplaceAllString(text, "$$${1}$$")
	images := perseusImages{}
	var out strings.Builder
	last := 0
	for _, m := range perseusImageRef.FindAllStringSubmatchIndex(text, -1) {
		alt, name := text[m[2]:m[3]], text[m[4]:m[5]]
		if !perseusStoredName.MatchString(name) {
			return "", nil, models.Errorf(models.CodeBadUserInput,
				"question %s refers to image %q, which is not a stored file (<md5>.<ext>); remove the image and upload it again", it.AssessmentID, name)
		}
		if err := b.addImage(it, name); err != nil {
			return "", nil, err
		}
		ref := perseusImagePrefix + "/" + name
		if m[6] >= 0 {
			w, errW := strconv.ParseFloat(text[m[6]:m[7]], 64)
			h, errH := strconv.ParseFloat(text[m[8]:m[9]], 64)
			// A size that is zero or unreadable is no size: show the image as it is.
			if errW == nil && errH == nil && w > 0 && h > 0 {
				images[ref] = perseusImage{Width: w, Height: h}
			}
		}
		out.WriteString(text[last:m[0]])
		out.WriteString("![" + alt + "](" + ref + ")")
		last = m[1]
	}
	out.WriteString(text[last:])
	return out.String(), images, nil
}

// perseusSorted returns the answer or hint maps sorted by "order". Like
// Studio, it leaves them as they are if some order is not a number.
func perseusSorted(list []any) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	for _, m := range out {
		if _, ok := perseusNumber(m["order"]); !ok {
			return out
		}
	}
	slices.SortStableFunc(out, func(a, b map[string]any) int {
		x, _ := perseusNumber(a["order"])
		y, _ := perseusNumber(b["order"])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return out
}

// perseusNumber reads a JSON number however it was decoded.
func perseusNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// perseusAnswerText is a choice's text; ok is false for an empty answer,
// which Studio leaves out.
func perseusAnswerText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case bool, nil:
		return "", false
	}
	if f, ok := perseusNumber(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), f != 0
	}
	return fmt.Sprint(v), true
}

// perseusAnswerNumber is an input answer's value.
func perseusAnswerNumber(v any) (float64, bool) {
	if f, ok := perseusNumber(v); ok {
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	s, _ := v.(string)
	return parsePerseusNumber(s)
}

// The number forms Studio's answer parser (utils/parser.py) accepts:
// integers with optional thousands commas, decimals, fractions, mixed
// numbers, percentages and exponents.
const (
	perseusInt = `-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)`
	perseusDec = `-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)\.[0-9]*`
)

var (
	perseusExponentRe = regexp.MustCompile(`^(` + perseusDec + `|` + perseusInt + `)e\+?(` + perseusInt + `)$`)
	perseusMixedRe    = regexp.MustCompile(`^(` + perseusInt + `) +(` + perseusInt + `)/(` + perseusInt + `)$`)
	perseusFractionRe = regexp.MustCompile(`^(` + perseusInt + `)/(` + perseusInt + `)$`)
	perseusPlainRe    = regexp.MustCompile(`^(?:` + perseusDec + `|` + perseusInt + `)$`)
)

// parsePerseusNumber reads an input answer as a number. It reads the whole
// (trimmed) answer, where Studio's parser takes the first number it finds.
func parsePerseusNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutSuffix(s, "%"); ok {
		f, ok := parsePerseusForm(rest)
		return f / 100, ok
	}
	return parsePerseusForm(s)
}

// parsePerseusForm reads an exponent, mixed number, fraction, decimal or integer.
func parsePerseusForm(s string) (float64, bool) {
	var f float64
	var ok bool
	if m := perseusExponentRe.FindStringSubmatch(s); m != nil {
		mant, ok1 := parsePerseusPlain(m[1])
		exp, ok2 := parsePerseusPlain(m[2])
		f, ok = mant*math.Pow(10, exp), ok1 && ok2
	} else if m := perseusMixedRe.FindStringSubmatch(s); m != nil {
		whole, ok1 := parsePerseusPlain(m[1])
		num, ok2 := parsePerseusPlain(m[2])
		den, ok3 := parsePerseusPlain(m[3])
		f, ok = math.Abs(whole)+num/den, ok1 && ok2 && ok3 && den != 0
		if strings.HasPrefix(m[1], "-") {
			f = -f
		}
	} else if m := perseusFractionRe.FindStringSubmatch(s); m != nil {
		num, ok1 := parsePerseusPlain(m[1])
		den, ok2 := parsePerseusPlain(m[2])
		f, ok = num/den, ok1 && ok2 && den != 0
	} else {
		f, ok = parsePerseusPlain(s)
	}
	return f, ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// parsePerseusPlain reads a decimal or integer, thousands commas allowed.
func parsePerseusPlain(s string) (float64, bool) {
	if !perseusPlainRe.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	return f, err == nil
}

// perseusJSON encodes v as Studio's templates lay it out: indented, with
// <, > and & left as they are.
func perseusJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("perseus: %w", err)
	}
	return buf.Bytes(), nil
}

// perseusZip writes the entries in order, stored, with Studio's fixed time
// and comment and no extra fields, so equal entries give equal bytes.
func perseusZip(entries []perseusEntry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	t := perseusZipTime
	date := uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	clock := uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
	for _, e := range entries {
		// CreateRaw takes the sizes and CRC up front, so the entry needs no
		// data descriptor, and it writes only the MS-DOS time fields, not the
		// extended timestamp CreateHeader adds: the layout Python's zipfile
		// gives Studio.
		fh := &zip.FileHeader{
			Name:               e.name,
			Comment:            perseusZipComment,
			Method:             zip.Store,
			CreatorVersion:     20, // MS-DOS, zip 2.0
			ReaderVersion:      20,
			ModifiedDate:       date,  //nolint:staticcheck // Modified would add an extended timestamp (see above)
			ModifiedTime:       clock, //nolint:staticcheck // as ModifiedDate
			CRC32:              crc32.ChecksumIEEE(e.data),
			CompressedSize64:   uint64(len(e.data)),
			UncompressedSize64: uint64(len(e.data)),
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return nil, fmt.Errorf("perseus: zip %s: %w", e.name, err)
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, fmt.Errorf("perseus: zip %s: %w", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("perseus: zip: %w", err)
	}
	return buf.Bytes(), nil
}

// The Perseus item JSON, in the key order of Studio's templates.
type perseusItem struct {
	Question        perseusRenderer `json:"question"`
	AnswerArea      map[string]any  `json:"answerArea"`
	ItemDataVersion perseusVersion  `json:"itemDataVersion"`
	Hints           []perseusHint   `json:"hints"`
}

type perseusRenderer struct {
	Content string         `json:"content"`
	Images  perseusImages  `json:"images"`
	Widgets map[string]any `json:"widgets"`
}

// perseusImages maps an image reference to the size to show it at.
type perseusImages map[string]perseusImage

type perseusImage struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

type perseusVersion struct {
	Major int `json:"major"`
	Minor int `json:"minor"`
}

type perseusHint struct {
	Widgets map[string]any `json:"widgets"`
	Images  perseusImages  `json:"images"`
	Content string         `json:"content"`
	Replace bool           `json:"replace"`
}

type perseusRadio struct {
	Type    string              `json:"type"`
	Graded  bool                `json:"graded"`
	Options perseusRadioOptions `json:"options"`
	Version perseusVersion      `json:"version"`
}

type perseusRadioOptions struct {
	Choices           []perseusChoice `json:"choices"`
	Randomize         bool            `json:"randomize"`
	MultipleSelect    bool            `json:"multipleSelect"`
	DisplayCount      *int            `json:"displayCount"` // always null, as Studio writes it
	HasNoneOfTheAbove bool            `json:"hasNoneOfTheAbove"`
	OnePerLine        bool            `json:"onePerLine"`
	DeselectEnabled   bool            `json:"deselectEnabled"`
}

type perseusChoice struct {
	Correct bool          `json:"correct"`
	Content string        `json:"content"`
	Images  perseusImages `json:"images"`
}

type perseusNumeric struct {
	Type      string                `json:"type"`
	Alignment string                `json:"alignment"`
	Static    bool                  `json:"static"`
	Graded    bool                  `json:"graded"`
	Options   perseusNumericOptions `json:"options"`
	Version   perseusVersion        `json:"version"`
}

type perseusNumericOptions struct {
	Static      bool                   `json:"static"`
	Answers     []perseusNumericAnswer `json:"answers"`
	Size        string                 `json:"size"`
	Coefficient bool                   `json:"coefficient"`
	LabelText   string                 `json:"labelText"`
}

type perseusNumericAnswer struct {
	Value       float64  `json:"value"`
	Status      string   `json:"status"`
	Message     string   `json:"message"`
	Strict      bool     `json:"strict"`
	Simplify    bool     `json:"simplify"`
	MaxError    float64  `json:"maxError"`
	AnswerForms []string `json:"answerForms"`
}
