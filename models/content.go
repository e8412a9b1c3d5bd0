package models

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the rules about content in one place: when a node is
// complete, what completion criteria look like, what answers and hints of
// an assessment item look like, and what a tag may be. Everything here is
// pure: callers load the node, its files and items, and ask.

// MaxTagLength is the longest tag name Studio accepts, in characters.
const MaxTagLength = 30

// MaxTags is the most tags a node may have. Studio sets no limit; a
// hundred is far more than any real node uses, and keeps one change from
// writing a hundred thousand rows.
const MaxTags = 100

// NULMessage says why text with a NUL character is refused: PostgreSQL
// cannot store it in text or JSON, and SQL built around it breaks.
const NULMessage = "text may not contain the NUL character (U+0000); remove it"

// ValidateText checks text from a client that is stored as it is (titles,
// descriptions, tags, questions...): it must not contain a NUL character.
func ValidateText(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		if field == "" {
			return Errorf(CodeBadUserInput, "%s", NULMessage)
		}
		return Errorf(CodeBadUserInput, "%s: %s", field, NULMessage)
	}
	return nil
}

// ValidateTagCount checks how many tags a node would have.
func ValidateTagCount(n int) error {
	if n > MaxTags {
		return Errorf(CodeBadUserInput, "a node may have at most %d tags, and this change would give it %d; remove some", MaxTags, n)
	}
	return nil
}

// ValidateTag checks a tag name: not blank, at most MaxTagLength
// characters (runes, not bytes), and no NUL character.
func ValidateTag(tag string) error {
	if err := ValidateText("tag", tag); err != nil {
		return err
	}
	if strings.TrimSpace(tag) == "" {
		return Errorf(CodeBadUserInput, "a tag must not be blank; give it a name")
	}
	if n := utf8.RuneCountInString(tag); n > MaxTagLength {
		return Errorf(CodeBadUserInput, "tag %q is %d characters long; shorten it to at most %d", tag, n, MaxTagLength)
	}
	return nil
}

// objectAt returns m[key] when it is a non-nil object.
func objectAt(m map[string]any, key string) (map[string]any, bool) {
	if m == nil {
		return nil, false
	}
	o, ok := m[key].(map[string]any)
	return o, ok && o != nil
}

// completionCriteriaOf returns extra_fields.options.completion_criteria and
// whether it is present (non-null). A present value that is not an object is
// returned as is, for the caller to reject.
func completionCriteriaOf(extra map[string]any) (any, bool) {
	opts, ok := objectAt(extra, "options")
	if !ok {
		return nil, false
	}
	cc, ok := opts["completion_criteria"]
	return cc, ok && cc != nil
}

// modalityOf returns extra_fields.options.modality, "" when unset.
func modalityOf(extra map[string]any) string {
	opts, _ := objectAt(extra, "options")
	s, _ := opts["modality"].(string)
	return s
}

// MasteryOf returns an exercise's mastery model: threshold.mastery_model of
// options.completion_criteria when its model is "mastery", otherwise the
// legacy top-level extra_fields.mastery_model. ok is false when neither is a
// non-empty string. It does not check that the model is a known one.
func MasteryOf(extra map[string]any) (model string, ok bool) {
	if cc, present := completionCriteriaOf(extra); present {
		if ccm, isObj := cc.(map[string]any); isObj && ccm["model"] == CompletionMastery {
			if th, isObj := objectAt(ccm, "threshold"); isObj {
				if s, _ := th["mastery_model"].(string); s != "" {
					return s, true
				}
			}
		}
	}
	if s, _ := extra["mastery_model"].(string); s != "" {
		return s, true
	}
	return "", false
}

// NormalizeCompletionCriteria applies Studio's edge case: the
// determined_by_resource and reference models take no threshold, so any
// threshold is removed. cc is changed in place; nil is fine.
func NormalizeCompletionCriteria(cc map[string]any) {
	if cc == nil {
		return
	}
	switch cc["model"] {
	case CompletionDeterminedByResource, CompletionReference:
		delete(cc, "threshold")
	}
}

// percentThreshold matches a pages threshold given as a percentage, 1%-100%.
var percentThreshold = regexp.MustCompile(`^(100|[1-9][0-9]?)%$`)

// ValidateCompletionCriteria checks options.completion_criteria
// ({model, threshold, learner_managed?}) for a node of kind. The model must
// always be one of the completion models and allowed for the kind (a topic
// may only use mastery, with mastery_model pre_post_test). When full is true
// (the node is being marked complete) the whole shape is checked too: the
// threshold per model and learner_managed.
func ValidateCompletionCriteria(kind string, cc map[string]any, full bool) error {
	if cc == nil {
		return Errorf(CodeBadUserInput, "completion criteria must be an object {model, threshold}; set them or remove them")
	}
	modelV, ok := cc["model"]
	if !ok || modelV == nil {
		return Errorf(CodeBadUserInput, "completion criteria need a model; set model to one of %s", strings.Join(CompletionModels, ", "))
	}
	model, ok := modelV.(string)
	if !ok || !slices.Contains(CompletionModels, model) {
		return Errorf(CodeBadUserInput, "completion model %s is not known; use one of %s", describeJSON(modelV), strings.Join(CompletionModels, ", "))
	}
	if !CompletionModelAllowed(kind, model) {
		allowed := leCompletionModelsByKind[kind]
		if len(allowed) == 0 {
			return Errorf(CodeBadUserInput, "%s content cannot have completion criteria; remove them", kindLabel(kind))
		}
		return Errorf(CodeBadUserInput, "completion model %q is not allowed for %s content; use one of %s", model, kindLabel(kind), strings.Join(allowed, ", "))
	}
	threshold, hasThreshold := cc["threshold"]
	if threshold == nil {
		hasThreshold = false
	}
	// The topic rule is part of the model-for-kind check, so it always runs
	// when a mastery model is given.
	if kind == KindTopic && hasThreshold {
		if th, isObj := threshold.(map[string]any); isObj {
			if mm, given := th["mastery_model"]; given && mm != nil && mm != MasteryPrePostTest {
				return Errorf(CodeBadUserInput, "a topic's completion criteria must use mastery model %q, not %s", MasteryPrePostTest, describeJSON(mm))
			}
		}
	}
	if !full {
		return nil
	}

	for k := range cc {
		switch k {
		case "model", "threshold", "learner_managed":
		default:
			return Errorf(CodeBadUserInput, "completion criteria do not take %q; use only model, threshold and learner_managed", k)
		}
	}
	if lm, given := cc["learner_managed"]; given && lm != nil {
		if _, isBool := lm.(bool); !isBool {
			return Errorf(CodeBadUserInput, "completion criteria learner_managed must be true or false, not %s", describeJSON(lm))
		}
	}

	switch model {
	case CompletionMastery:
		th, isObj := threshold.(map[string]any)
		if !hasThreshold || !isObj {
			return Errorf(CodeBadUserInput, "mastery completion criteria need a threshold object {mastery_model, m, n}; set threshold.mastery_model to one of %s", strings.Join(MasteryModels, ", "))
		}
		return validateMasteryThreshold(kind, th)
	case CompletionTime, CompletionApproxTime:
		if !hasThreshold {
			return Errorf(CodeBadUserInput, "the %s completion criterion needs a threshold: a positive number of seconds", model)
		}
		if f, isNum := jsonFloat(threshold); !isNum || f <= 0 {
			return Errorf(CodeBadUserInput, "the %s completion threshold must be a positive number of seconds, not %s", model, describeJSON(threshold))
		}
	case CompletionPages:
		if !hasThreshold {
			return Errorf(CodeBadUserInput, "the pages completion criterion needs a threshold: a positive whole number of pages or a percentage such as \"100%%\"")
		}
		if s, isStr := threshold.(string); isStr {
			if !percentThreshold.MatchString(s) {
				return Errorf(CodeBadUserInput, "the pages completion threshold %q is not a percentage from 1%% to 100%%; use a form such as \"100%%\" or a number of pages", s)
			}
		} else if n, isInt := jsonInt(threshold); !isInt || n <= 0 {
			return Errorf(CodeBadUserInput, "the pages completion threshold must be a positive whole number of pages or a percentage such as \"100%%\", not %s", describeJSON(threshold))
		}
	case CompletionReference, CompletionDeterminedByResource:
		if hasThreshold {
			return Errorf(CodeBadUserInput, "the %s completion criterion takes no threshold; remove it", model)
		}
	}
	return nil
}

// validateMasteryThreshold checks {mastery_model, m, n}.
func validateMasteryThreshold(kind string, th map[string]any) error {
	for k := range th {
		switch k {
		case "mastery_model", "m", "n":
		default:
			return Errorf(CodeBadUserInput, "a mastery threshold does not take %q; use only mastery_model, m and n", k)
		}
	}
	mm, _ := th["mastery_model"].(string)
	if !slices.Contains(MasteryModels, mm) {
		if v, given := th["mastery_model"]; given && v != nil {
			return Errorf(CodeBadUserInput, "mastery model %s is not known; use one of %s", describeJSON(v), strings.Join(MasteryModels, ", "))
		}
		return Errorf(CodeBadUserInput, "mastery completion criteria need threshold.mastery_model; set it to one of %s", strings.Join(MasteryModels, ", "))
	}
	if kind == KindTopic && mm != MasteryPrePostTest {
		return Errorf(CodeBadUserInput, "a topic's completion criteria must use mastery model %q, not %q", MasteryPrePostTest, mm)
	}
	if mm != MasteryMOfN {
		return nil // m and n only matter for m_of_n; Studio nulls them otherwise
	}
	m, mOK := jsonInt(th["m"])
	n, nOK := jsonInt(th["n"])
	if !mOK || m <= 0 {
		return Errorf(CodeBadUserInput, "the m_of_n mastery model needs m, a positive whole number of correct answers, not %s", describeJSON(th["m"]))
	}
	if !nOK || n <= 0 {
		return Errorf(CodeBadUserInput, "the m_of_n mastery model needs n, a positive whole number of recent answers, not %s", describeJSON(th["n"]))
	}
	if m > n {
		return Errorf(CodeBadUserInput, "the m_of_n mastery model needs m ≤ n, but m is %d and n is %d; lower m or raise n", m, n)
	}
	return nil
}

// ValidateAnswers checks the answers of an assessment item of type typ:
// a list of {answer: string, correct: bool, order: whole number ≥ 0} with no
// other keys. A single_selection (or legacy true_false) item with answers
// needs exactly one correct answer; every answer of an input_question must
// be correct. Any type may have no answers yet (completeness checks that).
func ValidateAnswers(typ string, answers []any) error {
	if !IsAssessmentType(typ) {
		return Errorf(CodeBadUserInput, "question type %q is not known; use one of %s", typ, strings.Join(AssessmentTypes, ", "))
	}
	correct := 0
	for i, a := range answers {
		am, ok := a.(map[string]any)
		if !ok || am == nil {
			return Errorf(CodeBadUserInput, "answers[%d] must be an object {answer, correct, order}, not %s", i, describeJSON(a))
		}
		for k := range am {
			switch k {
			case "answer", "correct", "order":
			default:
				return Errorf(CodeBadUserInput, "answers[%d] has unknown key %q; an answer has only answer, correct and order", i, k)
			}
		}
		if _, ok := am["answer"].(string); !ok {
			return Errorf(CodeBadUserInput, "answers[%d].answer must be a string, not %s", i, describeJSON(am["answer"]))
		}
		c, ok := am["correct"].(bool)
		if !ok {
			return Errorf(CodeBadUserInput, "answers[%d].correct must be true or false, not %s", i, describeJSON(am["correct"]))
		}
		if err := checkOrder("answers", i, am); err != nil {
			return err
		}
		if c {
			correct++
		} else if typ == QuestionInput {
			return Errorf(CodeBadUserInput, "answers[%d] of an input question is marked incorrect; every accepted answer of an input question must be correct", i)
		}
	}
	if (typ == QuestionSingleSelection || typ == QuestionTrueFalse) && len(answers) > 0 && correct != 1 {
		return Errorf(CodeBadUserInput, "a single selection question needs exactly one correct answer, but %d are marked correct", correct)
	}
	return nil
}

// ValidateHints checks the hints of an assessment item: a list of
// {hint: string, order: whole number ≥ 0} with no other keys.
func ValidateHints(hints []any) error {
	for i, h := range hints {
		hm, ok := h.(map[string]any)
		if !ok || hm == nil {
			return Errorf(CodeBadUserInput, "hints[%d] must be an object {hint, order}, not %s", i, describeJSON(h))
		}
		for k := range hm {
			switch k {
			case "hint", "order":
			default:
				return Errorf(CodeBadUserInput, "hints[%d] has unknown key %q; a hint has only hint and order", i, k)
			}
		}
		if _, ok := hm["hint"].(string); !ok {
			return Errorf(CodeBadUserInput, "hints[%d].hint must be a string, not %s", i, describeJSON(hm["hint"]))
		}
		if err := checkOrder("hints", i, hm); err != nil {
			return err
		}
	}
	return nil
}

// checkOrder checks the order key of answers[i] or hints[i].
func checkOrder(list string, i int, m map[string]any) error {
	v, given := m["order"]
	if !given {
		return Errorf(CodeBadUserInput, "%s[%d] needs an order, a whole number", list, i)
	}
	if n, ok := jsonInt(v); !ok || n < 0 {
		return Errorf(CodeBadUserInput, "%s[%d].order must be a whole number of at least 0, not %s", list, i, describeJSON(v))
	}
	return nil
}

// ItemComplete reports whether an assessment item counts toward a complete
// exercise: it has raw_data (perseus or QTI), or it has a question, answers
// (unless free_response) and, unless it is an input_question or
// free_response, at least one correct answer.
func ItemComplete(it *AssessmentItem) bool {
	if it == nil {
		return false
	}
	if it.RawData != "" {
		return true
	}
	if it.Question == "" {
		return false
	}
	if len(it.Answers) == 0 && it.Type != QuestionFreeResponse {
		return false
	}
	if it.Type == QuestionInput || it.Type == QuestionFreeResponse {
		return true
	}
	for _, a := range it.Answers {
		if am, ok := a.(map[string]any); ok && am["correct"] == true {
			return true
		}
	}
	return false
}

// CompletenessErrors is Studio's mark_complete: the reasons node n is not
// complete, nil when it is. isRoot says n is a tree root; files are the
// node's own files and items its assessment items.
func CompletenessErrors(n *ContentNode, isRoot bool, files []*File, items []*AssessmentItem) []string {
	if n == nil {
		return []string{"the node is missing"}
	}
	var errs []string
	if !isRoot && strings.TrimSpace(n.Title) == "" {
		errs = append(errs, "a title is required")
	}

	if n.Kind != KindTopic {
		if n.LicenseName == "" {
			errs = append(errs, "a license is required")
		} else if lic, ok := LicenseByName(n.LicenseName); !ok {
			errs = append(errs, fmt.Sprintf("license %q is not a known license", n.LicenseName))
		} else {
			if lic.IsCustom && strings.TrimSpace(n.LicenseDescription) == "" {
				errs = append(errs, fmt.Sprintf("the %s license needs a license description", lic.Name))
			}
			if lic.CopyrightHolderRequired && strings.TrimSpace(n.CopyrightHolder) == "" {
				errs = append(errs, fmt.Sprintf("a copyright holder is required for the %s license", lic.Name))
			}
		}
	}

	if n.Kind != KindTopic && n.Kind != KindExercise {
		hasMain := false
		for _, f := range files {
			if f == nil {
				continue
			}
			if p, ok := PresetByID(f.PresetID); ok && !p.Supplementary {
				hasMain = true
				break
			}
		}
		if !hasMain {
			errs = append(errs, "a resource file is required (thumbnails and subtitles do not count)")
		}
	}

	if n.Kind == KindExercise {
		if !slices.ContainsFunc(items, ItemComplete) {
			errs = append(errs, "at least one complete question is required")
		}
		if mm, ok := MasteryOf(n.ExtraFields); !ok {
			errs = append(errs, "a mastery model is required")
		} else if _, present := completionCriteriaOf(n.ExtraFields); !present && !slices.Contains(MasteryModels, mm) {
			errs = append(errs, fmt.Sprintf("mastery model %q is not known", mm))
		}
	}

	cc, hasCC := completionCriteriaOf(n.ExtraFields)
	modality := modalityOf(n.ExtraFields)
	if n.Kind == KindTopic && modality == ModalityUnit && !hasCC {
		errs = append(errs, "a unit needs completion criteria")
	}
	if hasCC {
		ccm, isObj := cc.(map[string]any)
		switch {
		case !isObj:
			errs = append(errs, "completion criteria must be an object")
		case n.Kind == KindTopic && modality != ModalityUnit:
			errs = append(errs, "only a topic with modality UNIT may have completion criteria")
		default:
			if err := ValidateCompletionCriteria(n.Kind, ccm, true); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	return errs
}

// IsComplete reports whether CompletenessErrors finds nothing.
func IsComplete(n *ContentNode, isRoot bool, files []*File, items []*AssessmentItem) bool {
	return len(CompletenessErrors(n, isRoot, files, items)) == 0
}

// kindLabel names a kind in messages.
func kindLabel(kind string) string {
	if kind == "" {
		return "kindless"
	}
	return kind
}

// describeJSON renders a JSON value briefly for an error message.
func describeJSON(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil || len(b) > 60 {
		return jsonKindOf(v)
	}
	return string(b)
}

// jsonInt returns v as an integer when it is an integral JSON number,
// whichever Go type the decoder chose (float64, int, int64, json.Number...).
func jsonInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		return int64(x), x <= math.MaxInt64
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= math.MaxInt64
	case float32:
		return floatToInt(float64(x))
	case float64:
		return floatToInt(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return floatToInt(f)
		}
	}
	return 0, false
}

// floatToInt converts an integral, in-range float to int64.
func floatToInt(f float64) (int64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// jsonFloat returns v as a finite float when it is a JSON number.
func jsonFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(string(x), 64); err != nil {
			return 0, false
		}
	default:
		i, ok := jsonInt(v)
		if !ok {
			return 0, false
		}
		f = float64(i)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
