package remotezip

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

// entryKey is the key an entry is looked up by: its cleaned name, without
// the trailing slash of a directory.
func entryKey(name string) string { return path.Clean(name) }

// queryKey is the key for a name a user typed: OS separators allowed, a
// leading "./" or "/" meaning the archive's root.
func queryKey(name string) string {
	return path.Clean(strings.TrimLeft(filepath.ToSlash(name), "/"))
}

// Lookup returns the entry a user's name denotes. A missing one is a
// *NotFoundError naming a few close entries; a name several entries share,
// or one no extractor would write (absolute, "..", control characters,
// backslashes), is refused.
func (a *Archive) Lookup(name string) (Entry, error) {
	k := queryKey(name)
	if k == "." {
		return Entry{}, fmt.Errorf("%w: the entry name is empty", ErrUnsupported)
	}
	idx := a.index[k]
	switch {
	case len(idx) == 0:
		return Entry{}, &NotFoundError{Name: name, Close: a.closeNames(k, 3)}
	case len(idx) > 1:
		return Entry{}, formatError("%d entries are named %s", len(idx), entryname.Quote(k))
	}
	e := a.entries[idx[0]]
	if why := unsafeName(e.Name); why != "" {
		return Entry{}, formatError("entry %s: %s", entryname.Quote(e.Name), why)
	}
	return e, nil
}

// unsafeName says why an entry's name would be refused by an extractor
// (artifacts/extract applies the same rule), or "".
func unsafeName(raw string) string {
	_, why := entryname.Clean(raw)
	return why
}

// closeNames returns up to n entry names near key, best first: entries
// under key as a directory, the same name in another case, the same base
// name elsewhere, then small typos.
func (a *Archive) closeNames(key string, n int) []string {
	var out []string
	seen := map[string]bool{}
	add := func(match func(k string) bool) {
		for _, e := range a.entries {
			if len(out) == n {
				return
			}
			if k := entryKey(e.Name); !seen[k] && match(k) {
				seen[k] = true
				out = append(out, e.Name)
			}
		}
	}
	lower, base := strings.ToLower(key), strings.ToLower(path.Base(key))
	add(func(k string) bool { return strings.HasPrefix(k, key+"/") })
	add(func(k string) bool { return strings.ToLower(k) == lower })
	add(func(k string) bool { return strings.ToLower(path.Base(k)) == base })
	if len(a.entries) <= 100_000 { // bounded work on an error path
		maxD := max(2, len(key)/5)
		add(func(k string) bool { return distance(lower, strings.ToLower(k), maxD) <= maxD })
	}
	return out
}

// distance is the Levenshtein distance of a and b, or more than maxD when
// it exceeds maxD.
func distance(a, b string, maxD int) int {
	if d := len(a) - len(b); d > maxD || -d > maxD {
		return maxD + 1
	}
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > maxD {
			return maxD + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
