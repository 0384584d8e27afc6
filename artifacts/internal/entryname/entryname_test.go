package entryname

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuoteKeepsEveryMessageShortAndPrintable(t *testing.T) {
	tests := []struct{ name, want string }{
		{"dist/app", `"dist/app"`},
		{"a\nb\x1b[31m", `"a\nb\x1b[31m"`},
		{"bidi\u202eexe", `"bidi\u202eexe"`},
		{strings.Repeat("é", 200), `"` + strings.Repeat("é", 127) + `"… (400 bytes)`},
		{strings.Repeat("\x1b", 70_000), `"` + strings.Repeat(`\x1b`, 63) + `"… (70000 bytes)`},
		{strings.Repeat("\x1b", 100), `"` + strings.Repeat(`\x1b`, 63) + `"… (100 bytes)`},
	}
	for _, tc := range tests {
		got := Quote(tc.name)
		if got != tc.want {
			t.Errorf("Quote(%.40q) = %.80s, want %.80s", tc.name, got, tc.want)
		}
		if !utf8.ValidString(got) || len(got) > maxQuoted+32 {
			t.Errorf("Quote(%.40q) is %d bytes or not UTF-8", tc.name, len(got))
		}
	}
}
