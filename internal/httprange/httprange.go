// Package httprange is the one home of the HTTP Range rules (RFC 9110 §14):
// the Range request headers the downloader and remotezip send, and the
// strict reading of a 206 answer's Content-Range that decides whether its
// bytes are the ones asked for. A hostile Content-Range is judged here and
// nowhere else.
package httprange

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ContentRange is a 206 answer's "bytes Start-End/Total": the first and
// last byte sent, both inclusive, and the complete length, -1 for "*".
type ContentRange struct{ Start, End, Total int64 }

// Len is the number of bytes the range holds.
func (c ContentRange) Len() int64 { return c.End - c.Start + 1 }

// Whole reports whether the range is the complete representation, from
// byte 0 to the last of a known length.
func (c ContentRange) Whole() bool { return c.Start == 0 && c.Total >= 0 && c.End == c.Total-1 }

// StartsAt checks that the answer begins at the byte asked for.
func (c ContentRange) StartsAt(off int64) error {
	if c.Start != off {
		return fmt.Errorf("asked for byte %d, the server sent from byte %d", off, c.Start)
	}
	return nil
}

// Parse reads a Content-Range response header strictly: the unit is
// "bytes", one space, first-last/total or first-last/*, each number a
// non-empty run of decimal digits (no sign, no spaces) that fits an int64,
// first ≤ last < 2⁶³−1, and last < total when the total is known. Anything else,
// including the unsatisfied-range form "bytes */total", is an error.
func Parse(v string) (ContentRange, error) {
	bad := fmt.Errorf("malformed Content-Range %q", v)
	spec, ok := strings.CutPrefix(v, "bytes ")
	rng, tot, ok2 := strings.Cut(spec, "/")
	first, last, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 {
		return ContentRange{}, bad
	}
	cr := ContentRange{Total: -1}
	var err1, err2, err3 error
	cr.Start, err1 = digits(first)
	cr.End, err2 = digits(last)
	if tot != "*" {
		cr.Total, err3 = digits(tot)
	}
	// End < MaxInt64 keeps Len and a length after End within an int64, as
	// a known Total does already.
	if errors.Join(err1, err2, err3) != nil || cr.End < cr.Start || cr.End == math.MaxInt64 || (cr.Total >= 0 && cr.End >= cr.Total) {
		return ContentRange{}, bad
	}
	return cr, nil
}

// digits reads a non-empty run of decimal digits: ParseInt alone would
// also take a sign, which no HTTP length or position has.
func digits(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number of bytes", s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// From is the Range request header for everything from byte off on.
func From(off int64) string { return "bytes=" + strconv.FormatInt(off, 10) + "-" }

// Span is the Range request header for bytes first to last, inclusive.
func Span(first, last int64) string {
	return "bytes=" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10)
}

// Suffix is the Range request header for the last n bytes.
func Suffix(n int64) string { return "bytes=-" + strconv.FormatInt(n, 10) }

// ParseRequest reads a Range request header of one byte range, the only
// kind this project sends: "bytes=first-last", "bytes=first-" (last -1)
// or "bytes=-n" (first -1, last n). ok is false for anything else,
// including a list of ranges.
func ParseRequest(v string) (first, last int64, ok bool) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	a, b, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 || (a == "" && b == "") {
		return 0, 0, false
	}
	first, last = -1, -1
	var err error
	if a != "" {
		if first, err = digits(a); err != nil {
			return 0, 0, false
		}
	}
	if b != "" {
		if last, err = digits(b); err != nil {
			return 0, 0, false
		}
	}
	if first >= 0 && last >= 0 && last < first {
		return 0, 0, false
	}
	return first, last, true
}

// Answers checks a 206's Content-Range against the one-range Range
// request that asked for it: the answer must parse, and start where the
// request asked (for a suffix request, end at the last byte). A server may
// send fewer bytes than asked, never others. A request that is not one
// range (or none) is not checked beyond the parse.
func Answers(contentRange, rangeHeader string) (ContentRange, error) {
	cr, err := Parse(contentRange)
	if err != nil {
		return cr, err
	}
	first, last, ok := ParseRequest(rangeHeader)
	switch {
	case !ok:
		return cr, nil
	case first < 0: // bytes=-n: the last n bytes, or all of a shorter body
		if cr.Total < 0 || cr.End != cr.Total-1 || cr.Len() > last {
			return cr, fmt.Errorf("asked for the last %d bytes, the server sent %q", last, contentRange)
		}
	case cr.Start != first:
		return cr, cr.StartsAt(first)
	case last >= 0 && cr.End > last:
		return cr, fmt.Errorf("asked for bytes %d-%d, the server sent %q", first, last, contentRange)
	}
	return cr, nil
}
