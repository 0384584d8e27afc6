package extract

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// maxLinkTarget bounds a symlink target read from an archive; Linux's own
// limit (PATH_MAX) is 4096.
const maxLinkTarget = 4096

// cleanName returns the slash-separated path, relative to the destination,
// that an entry named raw would be written to, or a reason to refuse it. It
// refuses rather than repairs: an archive that needs repair is hostile or
// broken. "." is the destination itself.
func cleanName(raw string) (string, string) {
	if raw == "" {
		return "", "empty name"
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
	}
	name := path.Clean(raw)
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", "not a local path on this system"
	}
	return name, ""
}

// checkLinkTarget returns why a symlink at the cleaned path name pointing to
// target must be refused, or "". The target, resolved from the link's
// directory, must stay inside the destination. Because ".." after a name can
// resolve through another symlink (x -> . makes x/.. the destination's
// parent), ".." may only lead the target, and the link's directories are
// real ones (nothing is written through a symlink), so counting them is exact.
func checkLinkTarget(name, target string) string {
	switch {
	case target == "":
		return "empty symlink target"
	case len(target) > maxLinkTarget:
		return fmt.Sprintf("symlink target longer than %d bytes", maxLinkTarget)
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
