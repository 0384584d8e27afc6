package release_test

import (
	"os"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/release"
)

const sumsText = `1111111111111111111111111111111111111111111111111111111111111111  pipeline-artifacts-linux-amd64
2222222222222222222222222222222222222222222222222222222222222222  pipeline-artifacts-windows-amd64.exe
3333333333333333333333333333333333333333333333333333333333333333  ca-certificates.crt
`

func template(t *testing.T) []byte {
	t.Helper()
	text, err := os.ReadFile("../../" + release.Template)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestPinWritesTheReleaseDigestsAndTheDefaultVersion(t *testing.T) {
	sums, err := release.ParseSums(strings.NewReader(sumsText))
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 || sums["windows-amd64"] == "" {
		t.Fatalf("ParseSums kept %v, want the two binaries", sums)
	}
	out, err := release.Pin(template(t), "1.2.3", sums)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `1.2.3/linux-amd64) pa_want=1111`) || !strings.Contains(string(out), `default: "1.2.3"`) {
		t.Fatalf("pinned template lacks the pin or the default:\n%s", out)
	}
	// A second release keeps the first one's pins.
	older := release.Sums{"linux-amd64": strings.Repeat("4", 64)}
	out, err = release.Pin(out, "1.3.0", older)
	if err != nil {
		t.Fatal(err)
	}
	pins, err := release.Pins(out)
	if err != nil {
		t.Fatal(err)
	}
	if pins["1.2.3"]["linux-amd64"] != sums["linux-amd64"] || pins["1.3.0"]["linux-amd64"] != older["linux-amd64"] {
		t.Errorf("pins after two releases: %v", pins)
	}
	if bad, _ := release.Check(out, "1.2.3", sums); len(bad) != 0 {
		t.Errorf("Check after Pin: %v", bad)
	}
}

func TestCheckFailsWhenThePinsAndSHA256SUMSDisagree(t *testing.T) {
	sums, _ := release.ParseSums(strings.NewReader(sumsText))
	pinned, err := release.Pin(template(t), "1.2.3", sums)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sums release.Sums
		want string
	}{
		{"a rebuilt binary with another digest is caught", release.Sums{"linux-amd64": strings.Repeat("9", 64), "windows-amd64": sums["windows-amd64"]}, "is pinned to 1111"},
		{"a platform the release added but the component lacks is caught", release.Sums{"linux-amd64": sums["linux-amd64"], "windows-amd64": sums["windows-amd64"], "linux-riscv64": strings.Repeat("5", 64)}, "linux-riscv64 is not pinned"},
		{"a pinned platform the release dropped is caught", release.Sums{"linux-amd64": sums["linux-amd64"]}, "windows-amd64 is pinned but not in SHA256SUMS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad, err := release.Check(pinned, "1.2.3", tc.sums)
			if err != nil {
				t.Fatal(err)
			}
			if len(bad) != 1 || !strings.Contains(bad[0], tc.want) {
				t.Errorf("Check = %q, want one line with %q", bad, tc.want)
			}
		})
	}
	if bad, _ := release.Check(template(t), "7.7.7", sums); len(bad) != 2 {
		t.Errorf("a version the component never pinned: %q, want both platforms reported", bad)
	}
}

func TestParseSumsRefusesALineThatIsNotADigest(t *testing.T) {
	if _, err := release.ParseSums(strings.NewReader("xyz  pipeline-artifacts-linux-amd64\n")); err == nil {
		t.Error("a malformed SHA256SUMS was accepted")
	}
}
