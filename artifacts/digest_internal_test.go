package artifacts

import (
	"strings"
	"testing"
)

func TestETagDigest(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, etag, want string
		ok               bool
	}{
		{"a quoted SHA-256 is taken", `"` + sum + `"`, sum, true},
		{"an upper-case one is taken lower-cased", `"` + strings.ToUpper(sum) + `"`, sum, true},
		{"a weak ETag is not a digest", `W/"` + sum + `"`, "", false},
		{"an unquoted one is not GitLab's", sum, "", false},
		{"an MD5 (32 digits) is not a SHA-256", `"` + sum[:32] + `"`, "", false},
		{"a multipart md5-N is not a digest", `"` + sum[:32] + `-3"`, "", false},
		{"65 digits are not a SHA-256", `"` + sum + `a"`, "", false},
		{"a non-hex letter is refused", `"` + sum[:63] + `g"`, "", false},
		{"an empty ETag is nothing", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := etagDigest(tc.etag)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("etagDigest(%q) = %q, %v; want %q, %v", tc.etag, got, ok, tc.want, tc.ok)
			}
		})
	}
}
