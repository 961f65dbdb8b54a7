package auth

import (
	"crypto/sha256"
	"crypto/subtle"
)

// KeyMatches reports whether the presented publisher key got equals the
// configured key want, in time independent of where they differ and of their
// lengths (both are hashed before the constant-time comparison). It is false
// whenever want is empty, so an unset key never opens the publish API.
func KeyMatches(got, want string) bool {
	if want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
