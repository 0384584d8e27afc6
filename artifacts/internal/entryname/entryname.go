// Package entryname is the one rule for what an archive entry may be named,
// where its symlink may point and which permission bits it gets. artifacts/extract applies it to every
// entry it writes and artifacts/remotezip to the one entry --path reads, so
// the two never disagree about what is safe.
package entryname

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds on a name. Linux refuses a path component past NAME_MAX and a path
// past PATH_MAX, so no tool could have archived longer ones from a real
// tree. Depth is bounded separately: every directory level costs os.Root a
// system call on each later open beneath it, so a chain of 16,000 "d/"
// (one 32 KiB zip name) took minutes to extract. Even bounded, the cost is
// depth times entries: 20,000 empty files 255 levels down, a few hundred
// KiB of tar.gz, took 45 s; no build output nests 128 directories deep.
const (
	MaxBytes          = 4096 // PATH_MAX
	MaxComponentBytes = 255  // NAME_MAX
	MaxDepth          = 128  // directories above an entry
	MaxLinkTarget     = 4096 // PATH_MAX, for a symlink's target
)

// Clean returns the slash-separated path, relative to the destination,
// that an entry named raw would be written to, or a reason to refuse it. It
// refuses rather than repairs: an archive that needs repair is hostile or
// broken. "." is the destination itself.
func Clean(raw string) (string, string) {
	switch {
	case raw == "":
		return "", "empty name"
	case len(raw) > MaxBytes:
		return "", fmt.Sprintf("name longer than %d bytes", MaxBytes)
	}
	if why := badChars(raw); why != "" {
		return "", why + " in name"
	}
	if raw[0] == '/' {
		return "", "absolute path"
	}
	if hasDrive(raw) {
		return "", "Windows drive letter in name"
	}
	for _, part := range strings.Split(raw, "/") {
		if part == ".." {
			return "", "path escapes the destination"
		}
		if len(part) > MaxComponentBytes {
			return "", fmt.Sprintf("a name component longer than %d bytes", MaxComponentBytes)
		}
	}
	name := path.Clean(raw)
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", "not a local path on this system"
	}
	if strings.Count(name, "/") > MaxDepth {
		return "", fmt.Sprintf("more than %d directories deep", MaxDepth)
	}
	return name, ""
}

// LinkTarget returns why a symlink at the cleaned path name pointing to
// target must be refused, or "". The target, resolved from the link's
// directory, must stay inside the destination. Because ".." after a name can
// resolve through another symlink (x -> . makes x/.. the destination's
// parent), ".." may only lead the target, and the link's directories are
// real ones (nothing is written through a symlink), so counting them is exact.
func LinkTarget(name, target string) string {
	switch {
	case target == "":
		return "empty symlink target"
	case len(target) > MaxLinkTarget:
		return fmt.Sprintf("symlink target longer than %d bytes", MaxLinkTarget)
	case badChars(target) != "":
		return badChars(target) + " in symlink target"
	case target[0] == '/' || hasDrive(target):
		return "absolute symlink target"
	}
	depth := strings.Count(name, "/")
	ups, named := 0, false
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "", ".":
		case "..":
			if named {
				return `symlink target has ".." after a name`
			}
			if ups++; ups > depth {
				return "symlink target leaves the destination"
			}
		default:
			named = true
		}
	}
	return ""
}

// badChars names what makes s unusable as a path: control characters (NUL
// truncates C strings, newlines forge log lines) or a backslash (a separator
// on Windows, so "..\x" would escape there).
func badChars(s string) string {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0:
			return "NUL byte"
		case c < 0x20 || c == 0x7f:
			return "control character"
		case c == '\\':
			return "backslash"
		}
	}
	return ""
}

// hasDrive reports a Windows drive prefix such as "C:".
func hasDrive(s string) bool {
	if len(s) < 2 || s[1] != ':' {
		return false
	}
	c := s[0] | 0x20
	return c >= 'a' && c <= 'z'
}

// Perm is the permission bits an entry with mode m is created with, before
// the umask: never setuid, setgid or sticky, and never world-writable. The
// docker executor runs jobs with umask 000, where a 0777 file from an
// archive would be one anyone on the host may rewrite before it runs, and a
// 1777 directory without its sticky bit one where anyone may replace
// anyone's files.
func Perm(m fs.FileMode) fs.FileMode { return m.Perm() &^ 0o002 }

// maxQuoted bounds a name quoted into a message: a tar's PAX header can carry
// a 1 MiB name, a zip's 64 KiB, and one refusal must stay a readable line.
const maxQuoted = 256

// Quote is name Go-quoted for a message (so no byte of it reaches a
// terminal or log raw), cut short with its length when it is long.
func Quote(name string) string {
	q := strconv.Quote(name)
	if len(q) <= maxQuoted {
		return q
	}
	n := min(len(name), maxQuoted)
	for n > 0 && (n < len(name) && !utf8.RuneStart(name[n]) || len(strconv.Quote(name[:n])) > maxQuoted) {
		n-- // a prefix of whole characters whose quoted form fits
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(name[:n]), len(name))
}
