package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// JWKS fetching policy.
const (
	// jwksRefreshInterval is how often the key set is fetched in the background.
	jwksRefreshInterval = time.Hour
	// jwksUnknownKIDEvery is the least time between two fetches caused by a
	// token whose kid is not in the set (a key rotation, or an attacker).
	jwksUnknownKIDEvery = time.Minute
	// jwksUnknownKIDWait bounds how long Verify waits for such a fetch. A
	// token arriving while the rate limiter is closed is refused at once.
	jwksUnknownKIDWait = 5 * time.Second
	// jwksHTTPTimeout bounds one fetch, including at start-up.
	jwksHTTPTimeout = 10 * time.Second
	// jwksMaxBytes caps a JWKS response body; real sets are a few KiB.
	jwksMaxBytes = 1 << 20
	// minRSABits is the smallest RSA modulus accepted for RS256.
	minRSABits = 2048
)

// JWKSVerifier verifies RS256, ES256 and EdDSA (Ed25519) subscriber tokens
// against the keys published at a JWKS URL. The set is fetched at start,
// refreshed hourly in the background, and refetched (at most once a minute)
// when a token names a kid the set does not hold. A refresh that fails keeps
// the previous keys and is logged to Options.Logger.
//
// It is safe for concurrent use. Close stops the background refresh; Verify
// keeps working after Close with the keys last fetched.
type JWKSVerifier struct {
	kf        keyfunc.Keyfunc
	policy    *pinned
	cancel    context.CancelFunc
	transport *http.Transport
	closeOnce sync.Once
}

var _ Verifier = (*JWKSVerifier)(nil)

// NewJWKS fetches the JWKS at rawURL and returns a verifier that uses it. It
// fails when opts are invalid, the URL cannot be fetched (within ctx and a 10 s
// timeout), or the set holds no key usable for RS256, ES256 or EdDSA. ctx
// bounds start-up only; the background refresh runs until Close.
func NewJWKS(ctx context.Context, rawURL string, opts Options) (*JWKSVerifier, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("jwks: url must be an absolute http or https URL")
	}
	where := u.Redacted()
	// The algorithms accepted; everything else, symmetric algorithms above
	// all, is refused before a key is looked up.
	p, err := newPinned(opts, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg(), jwt.SigningMethodEdDSA.Alg())
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}

	transport := &http.Transport{Proxy: http.ProxyFromEnvironment}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		transport = dt.Clone()
	}
	client := &http.Client{Transport: limitBody{transport}, Timeout: jwksHTTPTimeout}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// Until start-up is over, cancelling ctx cancels the fetch too.
	stop := context.AfterFunc(ctx, cancel)
	fail := func(err error) (*JWKSVerifier, error) {
		cancel()
		transport.CloseIdleConnections()
		return nil, fmt.Errorf("jwks %s: %w", where, err)
	}
	noErrFirst := false
	kf, err := keyfunc.NewDefaultOverrideCtx(bg, []string{u.String()}, keyfunc.Override{
		Client:                    client,
		HTTPTimeout:               jwksHTTPTimeout,
		NoErrorReturnFirstHTTPReq: &noErrFirst,
		RateLimitWaitMax:          jwksUnknownKIDWait,
		RefreshInterval:           jwksRefreshInterval,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(jwksUnknownKIDEvery), 1),
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				logger.WarnContext(ctx, "jwks refresh failed", "url", where, "error", err)
			}
		},
	})
	if !stop() {
		return fail(fmt.Errorf("start-up cancelled: %w", context.Cause(ctx)))
	}
	if err != nil {
		return fail(fetchError(err, u.String(), where))
	}
	keys, err := kf.Storage().KeyReadAll(bg)
	if err != nil {
		return fail(fmt.Errorf("read keys: %w", err))
	}
	usable := 0
	for _, k := range keys {
		for _, alg := range p.algs {
			if keyFits(alg, publicKey(k.Key())) {
				usable++
				break
			}
		}
	}
	if usable == 0 {
		return fail(fmt.Errorf("no usable key among %d (need RSA of at least %d bits, EC P-256 or Ed25519)", len(keys), minRSABits))
	}
	return &JWKSVerifier{kf: kf, policy: p, cancel: cancel, transport: transport}, nil
}

// Verify implements Verifier. ctx bounds the key set refetch that a token with
// an unknown kid may cause.
func (v *JWKSVerifier) Verify(ctx context.Context, token string) (string, time.Time, error) {
	return v.policy.parse(token, v.keyfunc(ctx))
}

// Close stops the background refresh and releases idle connections. It is
// idempotent and always returns nil.
func (v *JWKSVerifier) Close() error {
	v.closeOnce.Do(func() {
		v.cancel()
		v.transport.CloseIdleConnections()
	})
	return nil
}

// keyfunc wraps keyfunc's lookup (by kid, with refresh on an unknown kid and
// the JWK "alg" check; all keys when the token has no kid) and keeps only keys
// whose type fits the token's algorithm. Its errors are fixed rejections: the
// library's own mention the kid, which comes from the token.
func (v *JWKSVerifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	lookup := v.kf.KeyfuncCtx(ctx)
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg() // the parser has checked it against policy.algs
		got, err := lookup(t)
		if err != nil {
			return nil, errKeyUnknown
		}
		if set, ok := got.(jwt.VerificationKeySet); ok {
			var fit jwt.VerificationKeySet
			for _, k := range set.Keys {
				if keyFits(alg, k) {
					fit.Keys = append(fit.Keys, k)
				}
			}
			if len(fit.Keys) == 0 {
				return nil, errKeyUnknown
			}
			return fit, nil
		}
		if !keyFits(alg, got) {
			return nil, errAlg
		}
		return got, nil
	}
}

// keyFits reports whether key may verify signatures of algorithm alg. This is
// the algorithm-confusion guard: no key is ever used outside its own family,
// and symmetric keys ([]byte, from "oct" JWKs) fit nothing.
func keyFits(alg string, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == jwt.SigningMethodRS256.Alg() && k.N != nil && k.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		return alg == jwt.SigningMethodES256.Alg() && k.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return alg == jwt.SigningMethodEdDSA.Alg() && len(k) == ed25519.PublicKeySize
	default:
		return false
	}
}

// publicKey returns the public half of a private key, or key itself.
func publicKey(key any) any {
	if pk, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		return pk.Public()
	}
	return key
}

// fetchError shortens a start-up fetch failure to its cause: the library
// nests the URL, password included, in several layers of context.
func fetchError(err error, rawURL, redacted string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("fetch: %w", ue.Err)
	}
	return fmt.Errorf("fetch: %s", strings.ReplaceAll(err.Error(), rawURL, redacted))
}

// limitBody caps every response body at jwksMaxBytes, so a misbehaving JWKS
// endpoint cannot make the decoder read without end.
type limitBody struct{ rt http.RoundTripper }

func (l limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, jwksMaxBytes), resp.Body}
	return resp, nil
}
