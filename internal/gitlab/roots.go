package gitlab

import (
	"crypto/x509"
	"net/http"
	"sync"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// fallbackRoots makes TLS work in images without a CA bundle (FROM scratch,
// distroless without ca-certificates): where the system has no roots, the
// Mozilla roots bundled with golang.org/x/crypto/x509roots are used instead.
//
// It is what importing golang.org/x/crypto/x509roots/fallback does, but
// lazily: that package parses its ~150 certificates at init, which cost every
// stage of every job a few milliseconds (run, prepare and cleanup make no
// HTTP request at all). Here the check happens once, before the process's
// first request over TLS (a config stage served from the host cache makes
// none), and the bundle is parsed only when the system pool is empty.
// x509.SetFallbackRoots itself ignores the fallback where a platform
// verifier (macOS, Windows) or a non-empty system pool exists.
func fallbackRoots() { fallbackOnce.Do(setFallbackRoots) }

// fallbackOnce is a plain sync.Once, not sync.OnceFunc: that would build
// its closure at every process's start.
var fallbackOnce sync.Once

func setFallbackRoots() {
	if pool, err := x509.SystemCertPool(); err == nil && !emptyPool(pool) {
		return
	}
	p := x509.NewCertPool()
	for c := range bundle.Roots() {
		cert, err := x509.ParseCertificate(c.Certificate)
		if err != nil {
			continue // a root we cannot parse cannot verify anything either
		}
		if c.Constraint == nil {
			p.AddCert(cert)
		} else {
			p.AddCertWithConstraint(cert, c.Constraint)
		}
	}
	x509.SetFallbackRoots(p)
}

// emptyPool tells a pool without a single certificate. On Linux and the BSDs
// the system pool is the parsed bundle file, so an empty one means no file
// was found; on macOS and Windows it is empty but backed by the platform
// verifier, which SetFallbackRoots leaves alone.
func emptyPool(p *x509.CertPool) bool {
	return p.Equal(x509.NewCertPool())
}

// lazyRoots is the client's transport: before the first request over TLS
// it makes sure there are roots to verify against (fallbackRoots). Reading
// the system pool costs a parse of the CA bundle, which a process that
// makes no TLS request should not pay.
type lazyRoots struct{ *http.Transport }

// RoundTrip implements http.RoundTripper.
func (l lazyRoots) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "https" {
		fallbackRoots()
	}
	return l.Transport.RoundTrip(r)
}
