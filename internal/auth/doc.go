// Package auth turns credentials into identities: it verifies subscriber JSON
// Web Tokens and yields the user id in their "sub" claim, mints HS256 tokens
// for `herald token` and dev mode, and compares the publisher key.
//
// # What is verified
//
// A subscriber token is accepted only when all of these hold:
//
//   - it is at most [MaxTokenBytes] long (checked before any parsing);
//   - its "alg" header is one the verifier pins: HS256 for [HMACVerifier];
//     RS256, ES256 or EdDSA (Ed25519) for [JWKSVerifier]. "none", HS384,
//     HS512, PS*, and every algorithm the verifier was not built for are
//     refused before any key is looked up;
//   - its signature verifies with the configured key. A JWKS key is used only
//     for the algorithm its type implies (RSA of at least 2048 bits for RS256,
//     P-256 for ES256, Ed25519 for EdDSA), so an HS256 token "signed" with an
//     RSA public key (algorithm confusion) can never verify;
//   - "exp" is present and not past, "nbf" (when present) is not in the future,
//     "iat" (when present) is not in the future, each with [Options.Leeway];
//   - "aud" and "iss" match when [Options.Audience] and [Options.Issuer] are set;
//   - "sub" is a valid user id (see notify.ValidUserID): non-empty, at most
//     notify.MaxUserIDBytes, valid UTF-8, no control, line separator or
//     bidirectional formatting characters.
//
// # Errors never carry the token
//
// A token is a bearer credential: whoever reads it can act as its user until
// it expires. Every rejection is therefore a *notify.Error with a fixed, short
// message chosen from a closed set ("token expired", "token signature
// invalid", …); no part of the token, not its header, kid or claims, and no
// message of an underlying library (which may quote the kid or alg) ever
// reaches an error value, so nothing a caller logs or returns to a client can
// leak a credential. Callers must keep to the same rule: log the error, never
// the token.
//
// # Concurrency
//
// Verifiers are safe for concurrent use by any number of goroutines.
// [JWKSVerifier] owns a background goroutine that refreshes its key set; call
// Close to stop it.
package auth
