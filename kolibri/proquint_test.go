package kolibri_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/kolibri"
	"studio/models"
)

func TestProquint(t *testing.T) {
	const consonants, vowels = "bdfghjklmnprstvz", "aiou"
	seen := map[string]bool{}
	for range 100 {
		p := kolibri.Proquint()
		require.Len(t, p, 10, p)
		for i, r := range p {
			// Each 5-letter word is consonant, vowel, consonant, vowel, consonant.
			if i%5%2 == 0 {
				require.Contains(t, consonants, string(r), "letter %d of %s", i, p)
			} else {
				require.Contains(t, vowels, string(r), "letter %d of %s", i, p)
			}
		}
		seen[p] = true
	}
	require.Greater(t, len(seen), 90, "tokens are random") // 100 draws from 2^32 all but never collide
	require.NotEqual(t, kolibri.Proquint(), kolibri.Proquint())
}

func TestProquintFormatToken(t *testing.T) {
	cases := []struct{ in, want string }{
		{"lusabbabab", "lusab-babab"},
		{"lusab-babab", "lusab-babab"},
		{"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"}, // a channel id token
		{"", ""},
	}
	for _, c := range cases {
		require.Equal(t, c.want, models.FormatToken(c.in), c.in)
	}
	p := kolibri.Proquint()
	require.Equal(t, p, strings.ReplaceAll(models.FormatToken(p), "-", ""))
	require.Equal(t, 5, strings.Index(models.FormatToken(p), "-"))
}
