package artifacts

import (
	"cmp"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
)

// Where an expected digest came from, as Result.VerifiedBy names it.
const (
	FromOption = "--sha256"
	FromETag   = "GitLab ETag"
)

// digest is the SHA-256 a download must have, and who said so.
type digest struct{ want, source string }

// etagDigest returns the SHA-256 a strong ETag is, lower-cased: current GitLab sends
// the archive's SHA-256, quoted, as the ETag of artifacts it serves itself
// (https://gitlab.com/gitlab-org/gitlab/-/issues/371991); behind a redirect
// the object store's own ETag applies instead.
// A 32-hex ETag (an object store's MD5, or a multipart "md5-N") and a weak
// ETag are not a digest of the archive and are never taken for one.
func etagDigest(etag string) (string, bool) {
	hex, ok := strings.CutPrefix(etag, `"`)
	hex, ok2 := strings.CutSuffix(hex, `"`)
	if !ok || !ok2 || !IsSHA256Hex(hex) {
		return "", false
	}
	return strings.ToLower(hex), true
}

// IsSHA256Hex reports whether s is a SHA-256 written out: 64 hexadecimal
// digits, either case. A loop, not a regular expression: one compiled at
// package initialisation would cost every stage of the one binary.
func IsSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// expectDigest decides, on the first full response, what the download is
// verified against: the caller's digest, else GitLab's SHA-256 ETag, else
// nothing, in which case nothing is hashed: a digest nobody checks costs a
// core's worth of CPU on a fast link and buys nothing.
func (t *transfer) expectDigest(h http.Header) error {
	switch etag, ok := etagDigest(h.Get("ETag")); {
	case t.o.SHA256 != "":
		t.digest = digest{want: t.o.SHA256, source: cmp.Or(t.o.SHA256From, FromOption)}
	case ok && isArchiveRoute(t.src):
		t.digest = digest{want: etag, source: FromETag}
	default:
		t.digest, t.hash = digest{}, nil
		return nil
	}
	if t.hash == nil {
		t.hash = sha256.New()
	}
	t.hash.Reset()
	return nil
}

// isArchiveRoute: GitLab's ETag digest is the whole archive's, sent on the
// archive routes (…/jobs/:id/artifacts, …/jobs/artifacts/:ref/download).
// One file of the archive (…/artifacts/<path>, …/raw/<path>) is streamed
// by Workhorse from inside the archive; an ETag there, if any, is not a
// digest of what was sent.
func isArchiveRoute(u *url.URL) bool {
	return strings.HasSuffix(u.Path, "/artifacts") || strings.HasSuffix(u.Path, "/artifacts/") ||
		(strings.HasSuffix(u.Path, "/download") && strings.Contains(u.Path, "/jobs/artifacts/"))
}
