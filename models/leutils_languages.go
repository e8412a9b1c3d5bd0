package models

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Language is a content or channel language. ID is a BCP 47 tag written the
// way Studio and Kolibri write it: "en", "pt-BR", "sr-Latn". Names come from
// the CLDR data in golang.org/x/text rather than a copied list.
type Language struct {
	ID         string
	Name       string // English name
	NativeName string // name in the language itself; the English name if CLDR has none
	RTL        bool
}

// ErrUnknownLanguage is returned by LanguageByCode for codes that are not a
// usable language tag.
var ErrUnknownLanguage = errors.New("unknown language code")

// leMaxLanguageID is the width of Studio's Language.id column.
const leMaxLanguageID = 14

// leRTLScripts are the ISO 15924 scripts written right to left.
var leRTLScripts = map[string]bool{
	"Adlm": true, "Arab": true, "Aran": true, "Armi": true, "Avst": true,
	"Hebr": true, "Mand": true, "Mend": true, "Nbat": true, "Nkoo": true,
	"Orkh": true, "Palm": true, "Phli": true, "Phnx": true, "Prti": true,
	"Rohg": true, "Samr": true, "Sarb": true, "Sogd": true, "Sogo": true,
	"Syrc": true, "Thaa": true, "Yezi": true,
}

// LanguageByCode parses code as a BCP 47 tag and returns it in canonical
// case (lowercase language, Title-case script, uppercase region): "EN" is
// "en", "pt-br" and "pt_BR" are "pt-BR" (x/text accepts "_" as a separator),
// "sr-LATN" is "sr-Latn". It keeps deprecated codes as given ("iw" stays
// "iw") so ids from imported channels still match. It fails for malformed
// tags, unknown or undetermined ("und") languages, private-use or extension
// tags, and ids longer than Studio's 14-character column.
func LanguageByCode(code string) (Language, error) {
	t, err := language.Raw.Parse(code)
	if err != nil {
		return Language{}, fmt.Errorf("%w %q: %v", ErrUnknownLanguage, code, err)
	}
	if b, conf := t.Base(); conf != language.Exact || b.String() == "und" {
		return Language{}, fmt.Errorf("%w %q: no language subtag", ErrUnknownLanguage, code)
	}
	if len(t.Extensions()) > 0 {
		return Language{}, fmt.Errorf("%w %q: extensions and private use are not supported", ErrUnknownLanguage, code)
	}
	id := t.String()
	if len(id) > leMaxLanguageID {
		return Language{}, fmt.Errorf("%w %q: longer than %d characters", ErrUnknownLanguage, code, leMaxLanguageID)
	}
	// tag.Script guesses the usual script when the tag has none ("ar" -> Arab).
	script, _ := t.Script()
	l := Language{ID: id, RTL: leRTLScripts[script.String()]}
	l.Name = leTagName(display.English.Tags(), display.English.Languages(),
		display.English.Scripts(), display.English.Regions(), t)
	if l.Name == "" {
		l.Name = id // a valid ISO 639 code CLDR has no name for
	}
	if display.Self.Name(t) != "" {
		// Self has data for this language, so these namers speak it rather
		// than falling back to a neighbouring language.
		l.NativeName = leTagName(display.Self, display.Languages(t),
			display.Scripts(t), display.Regions(t), t)
	}
	if l.NativeName == "" {
		l.NativeName = l.Name
	}
	return l, nil
}

// leTagName names t with the given namers. CLDR sometimes names a tag after
// an alias of another language (x/text calls "sr-Latn" "Serbo-Croatian",
// from "sh"); when the name does not mention the base language, it is built
// as "Base (Script, Region)" instead.
func leTagName(tags, langs, scripts, regions display.Namer, t language.Tag) string {
	name := tags.Name(t)
	b, _ := t.Base()
	if t.String() == b.String() {
		return name
	}
	bt, _ := language.Raw.Compose(b)
	baseName := langs.Name(bt)
	if baseName == "" || (name != "" && strings.Contains(name, baseName)) {
		return name
	}
	var parts []string
	if s, conf := t.Script(); conf == language.Exact {
		if n := scripts.Name(s); n != "" {
			parts = append(parts, n)
		}
	}
	if r, conf := t.Region(); conf == language.Exact {
		if n := regions.Name(r); n != "" {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return baseName
	}
	return baseName + " (" + strings.Join(parts, ", ") + ")"
}

// leCommonLanguageVariants are regional and script variants used by Kolibri
// channels, offered even if x/text stops listing them.
var leCommonLanguageVariants = []string{
	"en-GB", "es-419", "fr-CA", "pt-BR", "sr-Latn", "zh-Hans", "zh-Hant",
}

// Languages returns the languages offered by the API, sorted by ID. It is
// derived from x/text: every language CLDR has locale data for, every ISO
// 639-1 (two-letter) language and variant it can name, and
// leCommonLanguageVariants. The slice is shared; do not modify it.
func Languages() []Language { return leLanguages() }

var leLanguages = sync.OnceValue(func() []Language {
	var codes []string
	for _, t := range display.Supported.Tags() {
		codes = append(codes, t.String())
	}
	for _, t := range display.Values.Tags() {
		if b, _ := t.Base(); len(b.String()) == 2 {
			codes = append(codes, t.String())
		}
	}
	codes = append(codes, leCommonLanguageVariants...)
	slices.Sort(codes)
	codes = slices.Compact(codes)

	var out []Language
	seen := map[string]bool{}
	for _, c := range codes {
		l, err := LanguageByCode(c)
		if err != nil || seen[l.ID] || l.Name == l.ID {
			continue // skip "und" and anything without an English name
		}
		seen[l.ID] = true
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Language) int { return strings.Compare(a.ID, b.ID) })
	return out
})
