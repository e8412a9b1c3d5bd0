package models

import (
	"errors"
	"fmt"
	"strings"
)

// Language is a content or channel language of le-utils'
// resources/languagelookup.json. ID is the code exactly as le-utils spells
// it ("en", "pt-BR", "zul", "sr-LATN", "und"): Kolibri looks languages up by
// that code, so studio never rewrites one (CLDR would turn "zul" into "zu"
// and "sr-LATN" into "sr-Latn", which le-utils does not list). Name,
// NativeName and RTL are le-utils' too.
type Language struct {
	ID         string
	Name       string // le-utils' English name; alternatives are separated by ";"
	NativeName string // le-utils' native name; alternatives are separated by ","
	RTL        bool
}

// ErrUnknownLanguage is returned by LanguageByCode for codes le-utils does
// not list.
var ErrUnknownLanguage = errors.New("unknown language code")

// leLanguageIndex finds a language by its code folded to lower case with
// "-" for "_"; le-utils has no two codes that fold alike (a test checks).
var leLanguageIndex = func() map[string]int {
	m := make(map[string]int, len(leLanguages))
	for i, l := range leLanguages {
		m[leFoldLanguageCode(l.ID)] = i
	}
	return m
}()

func leFoldLanguageCode(code string) string {
	return strings.ToLower(strings.ReplaceAll(code, "_", "-"))
}

// leLanguageOf finds a language as LanguageByCode does, without looking for
// suggestions: reads call it for every row.
func leLanguageOf(code string) (Language, bool) {
	i, ok := leLanguageIndex[leFoldLanguageCode(code)]
	if !ok {
		return Language{}, false
	}
	return leLanguages[i], true
}

// LanguageByCode finds a le-utils language by its code and returns it with
// le-utils' spelling of the code. Matching ignores case and accepts "_" for
// "-" ("PT_br" is "pt-BR", "sr-Latn" is "sr-LATN"), but a code le-utils does
// not list is refused, with the closest codes it does list in the error.
func LanguageByCode(code string) (Language, error) {
	if l, ok := leLanguageOf(code); ok {
		return l, nil
	}
	codes := make([]string, len(leLanguages))
	for i, l := range leLanguages {
		codes[i] = l.ID
	}
	if near := leSuggest(code, codes); len(near) > 0 {
		for i, c := range near {
			near[i] = fmt.Sprintf("%q", c)
		}
		return Language{}, fmt.Errorf("%w %q; did you mean %s? The languages query lists every code",
			ErrUnknownLanguage, code, strings.Join(near, ", "))
	}
	return Language{}, fmt.Errorf("%w %q; use a code from the languages query, such as en or pt-BR", ErrUnknownLanguage, code)
}

// Languages returns le-utils' languages, sorted by code. The slice is
// shared; do not modify it.
func Languages() []Language { return leLanguages }
