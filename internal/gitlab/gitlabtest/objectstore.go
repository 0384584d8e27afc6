package gitlabtest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
)

// ObjectStore is a fake object-storage host behind presigned URLs, the target
// of Server.RedirectTo. It serves GET and HEAD with Range and If-Range, checks
// the URL's signature (403 without it), and reports a violation whenever a
// request carries JOB-TOKEN, PRIVATE-TOKEN or Authorization, or the value of
// any token (8 characters or more) of a Server that redirects to it in its
// query or any header.
// Its faults and request log use RouteObject.
type ObjectStore struct {
	// URL is the base URL, e.g. http://127.0.0.1:41235 — a different host:port
	// than the Server's. NewObjectStore sets it; when mounting the handler
	// yourself, set it before the first redirect.
	URL string

	instrument
	cfg       storeConfig
	done      chan struct{}
	closeOnce sync.Once
	ts        *httptest.Server
	caPEM     []byte

	mu         sync.Mutex
	objects    map[string]*blob
	sources    []func() []string
	violations []string
}

// StoreOption configures an ObjectStore.
type StoreOption func(*storeConfig)

type storeConfig struct {
	tls         bool
	expect      bool
	onViolation []func(msg string)
}

// ExpectViolations stops NewObjectStore from failing the test on a violation;
// the test asserts on Violations instead.
func ExpectViolations() StoreOption { return func(c *storeConfig) { c.expect = true } }

// StoreTLS makes NewObjectStore start an HTTPS server. httptest servers share
// one certificate, so the Server's CAPEM trusts it too.
func StoreTLS() StoreOption { return func(c *storeConfig) { c.tls = true } }

// OnViolation also calls fn with each violation, e.g. to log it in a process
// that has no *testing.T.
func OnViolation(fn func(msg string)) StoreOption {
	return func(c *storeConfig) { c.onViolation = append(c.onViolation, fn) }
}

// presignKey signs URLs; the fake needs them unforgeable only by accident.
var presignKey = []byte("gitlabtest presign key")

// NewObjectStoreHandler returns an ObjectStore that is not listening anywhere:
// mount it on a listener and set URL. Violations are only recorded (and
// passed to OnViolation functions). Call Close when done.
func NewObjectStoreHandler(opts ...StoreOption) *ObjectStore {
	o := &ObjectStore{done: make(chan struct{}), objects: map[string]*blob{}}
	for _, opt := range opts {
		opt(&o.cfg)
	}
	return o
}

// NewObjectStore starts an ObjectStore on an httptest server that closes when
// the test ends. Each violation fails the test with t.Errorf (handlers run
// off the test goroutine, so never t.Fatal) unless ExpectViolations is given.
func NewObjectStore(t testing.TB, opts ...StoreOption) *ObjectStore {
	t.Helper()
	o := NewObjectStoreHandler(opts...)
	if !o.cfg.expect {
		o.cfg.onViolation = append(o.cfg.onViolation, func(msg string) {
			t.Errorf("gitlabtest: object store: %s", msg)
		})
	}
	ts := httptest.NewUnstartedServer(o)
	if o.cfg.tls {
		ts.StartTLS()
		o.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	} else {
		ts.Start()
	}
	o.ts, o.URL = ts, ts.URL
	t.Cleanup(o.Close)
	return o
}

// Handler returns o itself.
func (o *ObjectStore) Handler() http.Handler { return o }

// CAPEM returns the certificate of a StoreTLS store started by NewObjectStore, or nil.
func (o *ObjectStore) CAPEM() []byte { return append([]byte(nil), o.caPEM...) }

// Close releases stalled handlers and, for a store started by
// NewObjectStore, shuts it down. It is safe to call more than once.
func (o *ObjectStore) Close() {
	o.closeOnce.Do(func() {
		close(o.done)
		if o.ts != nil {
			o.ts.Close()
		}
	})
}

// Put stores data under bucket/<name> and returns its presigned URL, for
// tests that download from object storage without a Server.
func (o *ObjectStore) Put(name string, data []byte) string {
	return o.put("bucket/"+name, &blob{name: path.Base(name), data: data, modTime: epoch})
}

// put stores a copy of b under key with an S3-style ETag (MD5 of the content).
func (o *ObjectStore) put(key string, b *blob) string {
	sum := md5.Sum(b.data)
	obj := *b
	obj.etag = `"` + hex.EncodeToString(sum[:]) + `"`
	o.mu.Lock()
	o.objects[key] = &obj
	o.mu.Unlock()
	q := url.Values{
		"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
		"X-Amz-Credential":    {"GITLABTEST/20260102/us-east-1/s3/aws4_request"},
		"X-Amz-Date":          {"20260102T030405Z"},
		"X-Amz-Expires":       {"600"},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature":     {signature(key)},
	}
	return o.URL + "/" + key + "?" + q.Encode()
}

func signature(key string) string {
	m := hmac.New(sha256.New, presignKey)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

// Violations returns every token leak seen so far. The messages name the
// header or place, never the token.
func (o *ObjectStore) Violations() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.violations)
}

// watch adds a source of token values to look for.
func (o *ObjectStore) watch(tokens func() []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sources = append(o.sources, tokens)
}

// ServeHTTP checks the request for tokens, then serves the object.
func (o *ObjectStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.inspect(r)
	o.handle(RouteObject, w, r, o.done, 0, o.serveObject)
}

func (o *ObjectStore) serveObject(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed")
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	if !hmac.Equal([]byte(r.URL.Query().Get("X-Amz-Signature")), []byte(signature(key))) {
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch")
		return
	}
	o.mu.Lock()
	b := o.objects[key]
	o.mu.Unlock()
	if b == nil {
		writeS3Error(w, http.StatusNotFound, "NoSuchKey")
		return
	}
	serveBlob(w, r, b, b.etag)
}

func writeS3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code></Error>`, code)
}

// inspect records a violation for each credential header and each place a
// known token value appears.
func (o *ObjectStore) inspect(r *http.Request) {
	var leaks []string
	for _, h := range []string{"JOB-TOKEN", "PRIVATE-TOKEN", "Authorization"} {
		if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			leaks = append(leaks, "header "+h)
		}
	}
	query := r.URL.Query()
	for k := range query {
		if strings.HasPrefix(k, "X-Amz-") { // the presigned part, ours
			delete(query, k)
		}
	}
	for _, tok := range o.tokens() {
		if len(tok) < minTokenLen {
			continue
		}
		if containsToken(query, tok) {
			leaks = append(leaks, "a GitLab token in the query")
		}
		for _, name := range slices.Sorted(maps.Keys(r.Header)) {
			if containsToken(map[string][]string{name: r.Header[name]}, tok) {
				leaks = append(leaks, "a GitLab token in header "+name)
			}
		}
	}
	for _, leak := range slices.Compact(leaks) {
		o.violate(fmt.Sprintf("%s %s carried %s", r.Method, r.URL.Path, leak))
	}
}

// minTokenLen is the shortest token value searched for: shorter ones would
// match ETags, dates and signatures by chance. Use distinctive test tokens.
const minTokenLen = 8

func containsToken(values map[string][]string, tok string) bool {
	for k, vs := range values {
		if strings.Contains(k, tok) || slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(v, tok) }) {
			return true
		}
	}
	return false
}

func (o *ObjectStore) tokens() []string {
	o.mu.Lock()
	sources := slices.Clone(o.sources)
	o.mu.Unlock()
	var out []string
	for _, src := range sources { // outside o.mu: a source takes its Server's lock
		out = append(out, src()...)
	}
	return out
}

func (o *ObjectStore) violate(msg string) {
	o.mu.Lock()
	o.violations = append(o.violations, msg)
	o.mu.Unlock()
	for _, fn := range o.cfg.onViolation {
		fn(msg)
	}
}
