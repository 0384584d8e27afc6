package extract

import (
	"fmt"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

type kind uint8

const (
	kindDir kind = iota + 1
	kindFile
	kindLink
)

func (k kind) String() string {
	switch k {
	case kindDir:
		return "directory"
	case kindFile:
		return "file"
	default:
		return "symlink"
	}
}

// namespace is what the archive has declared so far, by cleaned path. It is
// how "a -> sub" followed by "a/x" is refused: os.Root would happily follow a
// symlink that stays inside the root, so the archive's own links must never
// be on the path of a later entry.
type namespace map[string]kind

// add records name as k. It returns the parent directories that are new
// (implied by this entry, in creation order), whether name was already a
// directory (a repeated directory entry), or a reason to refuse the entry.
func (ns namespace) add(name string, k kind) (parents []string, seen bool, why string) {
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		p := name[:i]
		switch ns[p] {
		case 0:
			ns[p] = kindDir
			parents = append(parents, p)
		case kindFile:
			return nil, false, fmt.Sprintf("path goes through %s, a file of this archive", entryname.Quote(p))
		case kindLink:
			return nil, false, fmt.Sprintf("path goes through %s, a symlink of this archive", entryname.Quote(p))
		}
	}
	switch old := ns[name]; {
	case old == 0:
		ns[name] = k
		return parents, false, ""
	case old == kindDir && k == kindDir:
		return parents, true, ""
	case old == k:
		return nil, false, "appears twice in the archive"
	default:
		return nil, false, fmt.Sprintf("is a %s here but a %s elsewhere in the archive", k, old)
	}
}
