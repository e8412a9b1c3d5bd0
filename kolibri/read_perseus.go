package kolibri

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"studio/models"
)

// Reading an exercise's .perseus archive back into questions. An item that
// Studio's templates made (a radio or numeric-input widget) becomes the
// question it was made from, when making it again gives the same bytes;
// any other item becomes a perseus_question holding the item's JSON. Either
// way, publishing the questions again writes the item as it was.

// PerseusExercise is what an exercise archive holds.
type PerseusExercise struct {
	// Items are the questions, in order (Order 1, 2, …), with their
	// assessment ids; ID and NodeID are left for the caller.
	Items []*models.AssessmentItem
	// Images are the files of images/, by stored name "<md5>.<ext>".
	Images map[string][]byte
	// ItemImages are the names of the images each item shows, by item.
	ItemImages [][]string
	// Exercise is exercise.json, decoded (nil when absent).
	Exercise map[string]any
	// Warnings say what could not be read.
	Warnings []string
}

// Limits on what an archive may hold, against zip bombs.
const (
	maxPerseusEntries = 10000
	maxPerseusEntry   = 64 << 20
	maxPerseusTotal   = 512 << 20
)

// localImagePrefix is how an item in an archive refers to its images.
const localImagePrefix = perseusImagePrefix + "/"

var (
	// perseusLocalImageRef is a markdown image in the archive's images folder.
	perseusLocalImageRef = regexp.MustCompile(`!\[([^\]]*)\]\(\$\{☣ LOCALPATH\}/images/([^\s)]+)\)`)
)

// ReadPerseusArchive reads an exercise's archive. ids are the items to read,
// in order (assessment_item_ids); nil reads exercise.json's
// all_assessment_items.
func ReadPerseusArchive(data []byte, ids []string) (*PerseusExercise, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, models.Errorf(models.CodeBadUserInput, "the exercise archive is not a zip file: %v", err)
	}
	if len(zr.File) > maxPerseusEntries {
		return nil, models.Errorf(models.CodeBadUserInput, "the exercise archive has %d files; at most %d are read", len(zr.File), maxPerseusEntries)
	}
	entries := map[string][]byte{}
	var total uint64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if f.UncompressedSize64 > maxPerseusEntry || total+f.UncompressedSize64 > maxPerseusTotal {
			return nil, models.Errorf(models.CodeBadUserInput, "the exercise archive's %s is too large", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, models.Errorf(models.CodeBadUserInput, "the exercise archive's %s: %v", f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, models.Errorf(models.CodeBadUserInput, "the exercise archive's %s: %v", f.Name, err)
		}
		if uint64(len(b)) != f.UncompressedSize64 {
			return nil, models.Errorf(models.CodeBadUserInput, "the exercise archive's %s is not the size its header says", f.Name)
		}
		total += uint64(len(b))
		entries[f.Name] = b
	}
	ex := &PerseusExercise{Images: map[string][]byte{}}
	if b, ok := entries["exercise.json"]; ok {
		if err := json.Unmarshal(b, &ex.Exercise); err != nil {
			ex.Warnings = append(ex.Warnings, "exercise.json is not a JSON object")
		}
	}
	if ids == nil {
		if all, ok := ex.Exercise["all_assessment_items"].([]any); ok {
			for _, v := range all {
				if s, ok := v.(string); ok {
					ids = append(ids, s)
				}
			}
		}
	}
	// Images, under their md5: a name that is not the md5 of its bytes is
	// renamed, and the items' references with it.
	renamed := map[string]string{}
	for name, b := range entries {
		dir, base := path.Split(name)
		if dir != perseusImageDir+"/" || base == "" {
			continue
		}
		sum := md5.Sum(b)
		ext := strings.ToLower(path.Ext(base))
		ext = strings.TrimPrefix(ext, ".")
		if !storageExtension.MatchString(ext) {
			ex.Warnings = append(ex.Warnings, fmt.Sprintf("image %s has no extension Kolibri stores: left out", base))
			continue
		}
		stored := hex.EncodeToString(sum[:]) + "." + ext
		if stored != base {
			renamed[base] = stored
		}
		ex.Images[stored] = b
	}
	for i, id := range ids {
		aid, err := models.ParseID(id)
		if err != nil {
			return nil, models.Errorf(models.CodeBadUserInput, "the exercise's assessment id %q is not 32 hex digits", id)
		}
		raw, ok := entries[id+".json"]
		if !ok {
			return nil, models.Errorf(models.CodeBadUserInput, "the exercise archive has no %s.json for its question %d", id, i+1)
		}
		if !json.Valid(raw) {
			return nil, models.Errorf(models.CodeBadUserInput, "the exercise archive's %s.json is not JSON", id)
		}
		text := string(raw)
		for from, to := range renamed {
			text = strings.ReplaceAll(text, localImagePrefix+from, localImagePrefix+to)
		}
		it := ex.item(aid, text)
		it.Order = i + 1
		ex.Items = append(ex.Items, it)
		var names []string
		for name := range ex.Images {
			// By name without its extension: a graphie is named so (web+graphie:…/<md5>).
			if strings.Contains(text, localImagePrefix+strings.TrimSuffix(name, path.Ext(name))) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		ex.ItemImages = append(ex.ItemImages, names)
	}
	return ex, nil
}

// item is one item's question: the one Studio's template made it from if
// that template gives the same bytes again, else a perseus_question.
func (ex *PerseusExercise) item(id models.ID, text string) *models.AssessmentItem {
	b := &perseusBuilder{written: map[string]bool{}, image: func(name string) ([]byte, error) {
		if data, ok := ex.Images[name]; ok {
			return data, nil
		}
		return nil, fmt.Errorf("not in the archive")
	}}
	if it := templateItem(text); it != nil {
		it.AssessmentID = id
		if again, err := b.item(it); err == nil && string(again) == text {
			return it
		}
	}
	return &models.AssessmentItem{AssessmentID: id, Type: models.QuestionPerseus, Answers: []any{}, Hints: []any{},
		RawData: strings.ReplaceAll(text, perseusImagePrefix, contentStoragePlaceholder)}
}

// templateItem reads an item as Studio's radio or numeric-input template
// would have written it, nil when it is neither.
func templateItem(text string) *models.AssessmentItem {
	var item struct {
		Question struct {
			Content string                     `json:"content"`
			Images  map[string]perseusImage    `json:"images"`
			Widgets map[string]json.RawMessage `json:"widgets"`
		} `json:"question"`
		Hints []struct {
			Content string                  `json:"content"`
			Images  map[string]perseusImage `json:"images"`
		} `json:"hints"`
	}
	if json.Unmarshal([]byte(text), &item) != nil || len(item.Question.Widgets) != 1 {
		return nil
	}
	it := &models.AssessmentItem{Answers: []any{}, Hints: []any{}}
	for i, h := range item.Hints {
		it.Hints = append(it.Hints, map[string]any{"hint": markdownOf(h.Content, h.Images), "order": i + 1})
	}
	if content, ok := strings.CutSuffix(item.Question.Content, "\n\n[[☃ radio 1]]"); ok {
		var radio perseusRadio
		if raw, ok := item.Question.Widgets["radio 1"]; !ok || json.Unmarshal(raw, &radio) != nil {
			return nil
		}
		it.Type = models.QuestionSingleSelection
		if radio.Options.MultipleSelect {
			it.Type = models.QuestionMultipleSelection
		}
		it.Randomize = radio.Options.Randomize
		it.Question = markdownOf(content, item.Question.Images)
		for i, c := range radio.Options.Choices {
			it.Answers = append(it.Answers, map[string]any{"answer": markdownOf(c.Content, c.Images), "correct": c.Correct, "order": i + 1})
		}
		return it
	}
	if content, ok := strings.CutSuffix(item.Question.Content, "\n\n[[☃ numeric-input 1]]"); ok {
		var numeric perseusNumeric
		if raw, ok := item.Question.Widgets["numeric-input 1"]; !ok || json.Unmarshal(raw, &numeric) != nil {
			return nil
		}
		it.Type = models.QuestionInput
		it.Question = markdownOf(content, item.Question.Images)
		for i, a := range numeric.Options.Answers {
			it.Answers = append(it.Answers, map[string]any{"answer": strconv.FormatFloat(a.Value, 'f', -1, 64), "correct": true, "order": i + 1})
		}
		return it
	}
	return nil
}

// markdownOf undoes content(): images point at content storage again, with
// the size the images map gives them.
func markdownOf(text string, images map[string]perseusImage) string {
	return perseusLocalImageRef.ReplaceAllStringFunc(text, func(m string) string {
		sub := perseusLocalImageRef.FindStringSubmatch(m)
		alt, name := sub[1], sub[2]
		size := ""
		if im, ok := images[localImagePrefix+name]; ok {
			size = " =" + strconv.FormatFloat(im.Width, 'f', -1, 64) + "x" + strconv.FormatFloat(im.Height, 'f', -1, 64)
		}
		return "![" + alt + "](" + contentStoragePlaceholder + "/" + name + size + ")"
	})
}
