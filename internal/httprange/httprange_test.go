package httprange

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want ContentRange
		ok   bool
	}{
		{"an end at the largest int64 is refused (no length could hold it)", "bytes 0-9223372036854775807/*", ContentRange{}, false},
		{"a one-byte range of a one-byte body is read", "bytes 0-0/1", ContentRange{0, 0, 1}, true},
		{"a middle range with its total is read", "bytes 10-99/100", ContentRange{10, 99, 100}, true},
		{"an unknown total reads as -1", "bytes 5-9/*", ContentRange{5, 9, -1}, true},
		{"leading zeros are digits and are allowed", "bytes 0000-00/10", ContentRange{0, 0, 10}, true},
		{"the largest int64 position is read", "bytes 0-9223372036854775806/9223372036854775807", ContentRange{0, 9223372036854775806, 9223372036854775807}, true},
		{"an empty header is refused", "", ContentRange{}, false},
		{"the unsatisfied form */total is refused", "bytes */100", ContentRange{}, false},
		{"a start after the end is refused", "bytes 9-5/100", ContentRange{}, false},
		{"an end at the total is refused", "bytes 0-100/100", ContentRange{}, false},
		{"an end past the total is refused", "bytes 0-200/100", ContentRange{}, false},
		{"a total of 0 is refused (no byte can be in it)", "bytes 0-0/0", ContentRange{}, false},
		{"another unit is refused", "items 0-1/2", ContentRange{}, false},
		{"an upper-case unit is refused", "BYTES 0-1/2", ContentRange{}, false},
		{"a negative start is refused", "bytes -1-5/10", ContentRange{}, false},
		{"a negative total is refused", "bytes 0-5/-10", ContentRange{}, false},
		{"a plus sign is refused", "bytes +1-2/3", ContentRange{}, false},
		{"a start that overflows int64 is refused", "bytes 9223372036854775808-9223372036854775809/*", ContentRange{}, false},
		{"a total that overflows int64 is refused", "bytes 0-1/99999999999999999999", ContentRange{}, false},
		{"a missing total is refused", "bytes 0-1", ContentRange{}, false},
		{"a missing end is refused", "bytes 0-/10", ContentRange{}, false},
		{"a space before the dash is refused", "bytes 0 -1/2", ContentRange{}, false},
		{"a space after the slash is refused", "bytes 0-1/ 2", ContentRange{}, false},
		{"two spaces after the unit are refused", "bytes  0-1/2", ContentRange{}, false},
		{"a trailing space is refused", "bytes 0-1/2 ", ContentRange{}, false},
		{"a leading space is refused", " bytes 0-1/2", ContentRange{}, false},
		{"a hexadecimal number is refused", "bytes 0x0-1/2", ContentRange{}, false},
		{"two ranges are refused", "bytes 0-1,3-4/10", ContentRange{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, got, want string
	}{
		{"From asks for the rest of the body", From(5000), "bytes=5000-"},
		{"Span asks for an inclusive range", Span(10, 19), "bytes=10-19"},
		{"Suffix asks for the last bytes", Suffix(65536), "bytes=-65536"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name        string
		in          string
		first, last int64
		ok          bool
	}{
		{"an open range is read with last -1", "bytes=100-", 100, -1, true},
		{"a closed range is read", "bytes=0-0", 0, 0, true},
		{"a suffix range is read with first -1", "bytes=-500", -1, 500, true},
		{"an empty header is not a range", "", 0, 0, false},
		{"a lone dash is not a range", "bytes=-", 0, 0, false},
		{"an inverted range is refused", "bytes=9-5", 0, 0, false},
		{"a list of ranges is not one range", "bytes=0-1,5-6", 0, 0, false},
		{"another unit is refused", "items=0-1", 0, 0, false},
		{"a sign is refused", "bytes=+1-2", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, last, ok := ParseRequest(tc.in)
			if ok != tc.ok || (ok && (first != tc.first || last != tc.last)) {
				t.Fatalf("ParseRequest(%q) = %d, %d, %v; want %d, %d, %v", tc.in, first, last, ok, tc.first, tc.last, tc.ok)
			}
		})
	}
}

func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, contentRange, rangeHeader string
		ok                              bool
	}{
		{"the rest from the byte asked for is accepted", "bytes 100-999/1000", "bytes=100-", true},
		{"a shorter span than asked is accepted", "bytes 0-9/1000", "bytes=0-99", true},
		{"the exact span asked for is accepted", "bytes 10-19/1000", "bytes=10-19", true},
		{"the last bytes for a suffix request are accepted", "bytes 900-999/1000", "bytes=-100", true},
		{"a whole short body for a suffix request is accepted", "bytes 0-9/10", "bytes=-100", true},
		{"an answer from another byte is refused", "bytes 0-999/1000", "bytes=100-", false},
		{"an answer past the span's end is refused", "bytes 10-29/1000", "bytes=10-19", false},
		{"a suffix answer that is not the tail is refused", "bytes 800-899/1000", "bytes=-100", false},
		{"a suffix answer longer than asked is refused", "bytes 800-999/1000", "bytes=-100", false},
		{"a suffix answer without a total is refused", "bytes 900-999/*", "bytes=-100", false},
		{"a malformed answer is refused whatever was asked", "bytes 5-1/10", "bytes=5-", false},
		{"an answer to a list of ranges is only parsed", "bytes 5-6/10", "bytes=0-1,5-6", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Answers(tc.contentRange, tc.rangeHeader); (err == nil) != tc.ok {
				t.Fatalf("Answers(%q, %q) = %v; want ok %v", tc.contentRange, tc.rangeHeader, err, tc.ok)
			}
		})
	}
}

// FuzzParseContentRange checks that whatever a server writes in
// Content-Range, an accepted value is a well-formed range that prints back
// to itself (up to leading zeros, which RFC 9110's 1*DIGIT allows), so
// nothing downstream sees a negative or inverted range.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-0/1", "bytes 10-99/100", "bytes 5-9/*", "bytes +1-2/3", "bytes 0-9223372036854775807/*", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cr, err := Parse(v)
		if err != nil {
			return
		}
		if cr.Start < 0 || cr.End < cr.Start || (cr.Total >= 0 && cr.End >= cr.Total) || cr.Total < -1 || cr.Len() < 1 {
			t.Fatalf("%q accepted as %+v", v, cr)
		}
		total := "*"
		if cr.Total >= 0 {
			total = strconv.FormatInt(cr.Total, 10)
		}
		if back := fmt.Sprintf("bytes %d-%d/%s", cr.Start, cr.End, total); back != leadingZeros.ReplaceAllString(v, "${1}${2}") {
			t.Fatalf("%q accepted, but it reads as %q", v, back)
		}
	})
}

// leadingZeros matches the leading zeros of each number in a Content-Range.
var leadingZeros = regexp.MustCompile(`(^bytes |-|/)0+([0-9])`)
