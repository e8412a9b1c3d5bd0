package models

import "strings"

// Fields the API computes from a row without the database: plain methods,
// so that gqlgen calls them in line rather than as resolvers (a goroutine
// each), which a read of thousands of nodes and files would pay for.

// LanguageOf is the language with code, nil for "": a code le-utils does
// not know is shown as itself.
func LanguageOf(code string) *Language {
	if code == "" {
		return nil
	}
	l, ok := leLanguageOf(code)
	if !ok {
		// Stored by an older version that took CLDR's codes ("es-419").
		return &Language{ID: code, Name: code, NativeName: code}
	}
	return &l
}

// Language is the channel's language (see LanguageOf).
func (c *Channel) Language() *Language { return LanguageOf(c.LanguageCode) }

// Language is the node's language (see LanguageOf).
func (n *ContentNode) Language() *Language { return LanguageOf(n.LanguageCode) }

// License is the node's license, nil when it has none.
func (n *ContentNode) License() *License {
	if l, ok := LicenseByName(n.LicenseName); ok {
		return &l
	}
	return nil
}

// Language is the file's language (see LanguageOf).
func (f *File) Language() *Language { return LanguageOf(f.LanguageCode) }

// Preset is the file's format preset (an unknown id is shown as itself).
func (f *File) Preset() *FormatPreset {
	if p, ok := PresetByID(f.PresetID); ok {
		return &p
	}
	return &FormatPreset{ID: f.PresetID}
}

// FormatToken shows a stored 10-letter token as users see it, "abcde-fghij".
// Any other token (a channel id used as a token, or one already hyphenated)
// is returned as it is.
func FormatToken(t string) string {
	if len(t) != 10 || strings.Contains(t, "-") {
		return t
	}
	return t[:5] + "-" + t[5:]
}

// ThumbnailDataURI is the channel's thumbnail as a data URI, "" when it has none.
func (c *Channel) ThumbnailDataURI() string {
	if s, _ := c.ThumbnailEncoding["base64"].(string); strings.HasPrefix(s, "data:image/") {
		return s
	}
	return ""
}

// URL is where the file is served: /content/storage/<c0>/<c1>/<md5>.<ext>.
func (f *File) URL() string { return "/content/" + f.StoragePath() }
