package kolibri

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
)

// Proquint letters (arXiv 0901.4016, as le-utils' proquint.py uses them):
// 16 consonants carry 4 bits each, 4 vowels 2 bits each.
const (
	proquintConsonants = "bdfghjklmnprstvz"
	proquintVowels     = "aiou"
)

// Proquint returns a fresh channel token: 32 random bits written as two
// 5-letter proquint words, without the hyphen, as Studio stores tokens.
// Unlike le-utils it always gives 10 letters, even when the high 16 bits
// are zero.
func Proquint() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	v := binary.BigEndian.Uint32(b[:])
	var s strings.Builder
	for _, word := range []uint32{v >> 16, v & 0xffff} {
		// consonant, vowel, consonant, vowel, consonant: 4+2+4+2+4 bits, high first
		s.WriteByte(proquintConsonants[word>>12&0xf])
		s.WriteByte(proquintVowels[word>>10&0x3])
		s.WriteByte(proquintConsonants[word>>6&0xf])
		s.WriteByte(proquintVowels[word>>4&0x3])
		s.WriteByte(proquintConsonants[word&0xf])
	}
	return s.String()
}
