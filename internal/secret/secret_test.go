package secret

import (
	"bytes"
	"strings"
	"testing"
)

func TestMaskReplacesEveryRegisteredSpelling(t *testing.T) {
	Reset()
	t.Cleanup(Reset)
	Register("glpat-abc/def+ghi", "short")
	for _, in := range []string{
		"token glpat-abc/def+ghi is invalid",
		"GET /x?private_token=glpat-abc%2Fdef%2Bghi",
	} {
		if got := Mask(in); strings.Contains(got, "abc") {
			t.Errorf("Mask(%q) = %q, still holds the token", in, got)
		}
	}
	if got := Mask("a short word"); got != "a short word" {
		t.Errorf("a value under 8 bytes masked ordinary text: %q", got)
	}
}

func TestRegisterURLStripsAndRegistersCredentials(t *testing.T) {
	Reset()
	t.Cleanup(Reset)
	clean := RegisterURL("https://user:s3cr3t-pass@gl.example/api/v4/jobs/1/artifacts?job_token=jobtok-123456&x=y")
	if strings.Contains(clean, "s3cr3t") || strings.Contains(clean, "jobtok") || strings.Contains(clean, "user") {
		t.Fatalf("RegisterURL left a credential in %q", clean)
	}
	if !strings.Contains(clean, "x=y") {
		t.Errorf("RegisterURL dropped an ordinary parameter: %q", clean)
	}
	var b bytes.Buffer
	Writer{W: &b}.Write([]byte("echo s3cr3t-pass and jobtok-123456\n"))
	if strings.Contains(b.String(), "s3cr3t") || strings.Contains(b.String(), "jobtok") {
		t.Errorf("Writer printed a registered credential: %q", b.String())
	}
}
