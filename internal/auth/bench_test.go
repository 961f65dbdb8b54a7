package auth

import (
	"context"
	"crypto/elliptic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	now := func() time.Time { return t0 }
	hv, err := NewHMAC(secret, Options{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	rsaKey, ecKey, edKey := newRSA(b, "rsa", 2048), newEC(b, "ec", elliptic.P256()), newEd(b, "ed")
	srv := newJWKSServer(b, jwksJSON(b, rsaKey, ecKey, edKey))
	jv := newTestJWKS(b, srv.URL)

	for _, bc := range []struct {
		name  string
		v     Verifier
		token string
	}{
		{"HS256", hv, mint(b, jwt.SigningMethodHS256, secret, "", claims("u1"))},
		{"RS256", jv, signWith(b, jwt.SigningMethodRS256, rsaKey, "rsa", claims("u1"))},
		{"ES256", jv, signWith(b, jwt.SigningMethodES256, ecKey, "ec", claims("u1"))},
		{"EdDSA", jv, signWith(b, jwt.SigningMethodEdDSA, edKey, "ed", claims("u1"))},
		{"HS256-forged", hv, mint(b, jwt.SigningMethodHS256, otherSecret, "", claims("u1"))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = bc.v.Verify(ctx, bc.token)
			}
		})
	}
}
