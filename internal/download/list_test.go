package download

import "testing"

func TestSafeNameQuotesWhatCouldFoolATerminal(t *testing.T) {
	cases := map[string]string{
		"dist/app.txt":        "dist/app.txt",
		"dir with spaces/a b": "dir with spaces/a b",
		"ünïcode/ok.txt":      "ünïcode/ok.txt",
		"evil\x1b[2J.txt":     `"evil\x1b[2J.txt"`,
		"two\nlines":          `"two\nlines"`,
		" leading":            `" leading"`,
		`quo"te`:              `"quo\"te"`,
		"":                    `""`,
	}
	for in, want := range cases {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %s, want %s", in, got, want)
		}
	}
}
