package main

import (
	"crypto/rand"
	"encoding/base64"
)

// randomPassword is the first admin's password: nobody knows it, the
// printed token is how the admin gets in.
func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
