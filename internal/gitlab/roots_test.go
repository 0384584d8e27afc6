package gitlab

import (
	"crypto/x509"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// TestFallbackRootsWhereTheSystemHasNone runs itself in a child process that
// sees no CA bundle (as in a FROM-scratch image): building a client must
// leave the process with the bundled roots to verify against.
func TestFallbackRootsWhereTheSystemHasNone(t *testing.T) {
	if os.Getenv("PA_ROOTS_CHILD") == "1" {
		hc, err := newHTTPClient(nil)
		if err != nil {
			t.Fatal(err)
		}
		// The check waits for the first request over TLS; this one
		// fails (nothing listens there), after the roots were set.
		_, _ = hc.Get("https://127.0.0.1:1/")
		pool, err := x509.SystemCertPool()
		if err != nil || emptyPool(pool) {
			t.Fatalf("no roots to verify against in an image without a CA bundle (err %v)", err)
		}
		return
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("the platform verifier, not a bundle file, holds the roots here")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestFallbackRootsWhereTheSystemHasNone$")
	cmd.Env = append(os.Environ(), "PA_ROOTS_CHILD=1", "SSL_CERT_FILE=/nonexistent", "SSL_CERT_DIR=/nonexistent")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
