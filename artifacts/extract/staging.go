package extract

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

// stagingPrefix names the staging directories Extract creates in the
// destination. One left behind by a killed process can be deleted.
const stagingPrefix = ".pipeline-artifacts-extract-"

// staging is a private directory inside the destination: the archive is
// written under tree, and files displaced by the final renames wait in old
// until the whole move succeeded.
type staging struct {
	root  *os.Root // the destination
	dir   string   // relative to root
	tree  *os.Root // dir/t
	umask fs.FileMode
}

func newStaging(root *os.Root) (*staging, error) {
	for range 5 {
		dir := stagingPrefix + strings.ToLower(rand.Text()[:16])
		err := root.Mkdir(dir, 0o700)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating staging directory: %w", err)
		}
		st := &staging{root: root, dir: dir}
		if err := st.openTree(); err != nil {
			_ = root.RemoveAll(dir)
			return nil, fmt.Errorf("creating staging directory: %w", err)
		}
		return st, nil
	}
	return nil, errors.New("creating staging directory: too many name collisions")
}

// openTree creates the tree directory with mode 0777, which also reveals the
// process umask without touching process-wide state.
func (st *staging) openTree() error {
	t := st.dir + "/t"
	if err := st.root.Mkdir(t, 0o777); err != nil {
		return err
	}
	fi, err := st.root.Lstat(t)
	if err != nil {
		return err
	}
	st.umask = 0o777 &^ fi.Mode().Perm()
	st.tree, err = st.root.OpenRoot(t)
	return err
}

func (st *staging) remove() error {
	st.tree.Close()
	if err := st.root.RemoveAll(st.dir); err != nil {
		return fmt.Errorf("removing staging directory: %w", pathless(err))
	}
	return nil
}

// move is one rename of the commit: the staged rel goes to rel in the
// destination, displacing (replace) what is there.
type move struct {
	rel     string
	replace bool
}

// commit moves the staged tree into the destination. It plans every rename
// first, so a file/directory clash is refused before anything moves.
func (st *staging) commit() error {
	var moves []move
	if err := st.plan(".", &moves); err != nil {
		return err
	}
	return st.apply(moves)
}

// plan walks the staged directory dir against the destination: new entries
// move whole (one rename for a new subtree), directories present on both
// sides merge, files and symlinks replace files and symlinks. An existing
// symlink is never treated as a directory: writing through it is refused.
func (st *staging) plan(dir string, moves *[]move) error {
	entries, err := fs.ReadDir(st.tree.FS(), dir)
	if err != nil {
		return fmt.Errorf("reading staging directory: %w", pathless(err))
	}
	for _, e := range entries {
		rel := path.Join(dir, e.Name())
		fi, err := st.root.Lstat(rel)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			*moves = append(*moves, move{rel: rel})
		case err != nil:
			return entryErr(rel, err)
		case e.IsDir() && fi.IsDir():
			if err := st.plan(rel, moves); err != nil {
				return err
			}
		case e.IsDir():
			return refuse(rel, "the destination has a %s where the archive has a directory", describe(fi.Mode()))
		case fi.IsDir():
			return refuse(rel, "the destination has a directory where the archive has a %s", describe(e.Type()))
		case !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0:
			return refuse(rel, "the destination has a %s there", describe(fi.Mode()))
		default:
			*moves = append(*moves, move{rel: rel, replace: true})
		}
	}
	return nil
}

func describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "file"
	default:
		return "special file"
	}
}

type rename struct{ from, to string }

// apply performs the renames. If one fails, those done are undone in reverse
// order, so the destination is left as it was.
func (st *staging) apply(moves []move) error {
	var done []rename
	do := func(from, to string) error {
		if err := st.root.Rename(from, to); err != nil {
			return err
		}
		done = append(done, rename{from, to})
		return nil
	}
	old, madeOld := st.dir+"/old", false
	for i, m := range moves {
		var err error
		if m.replace && !madeOld {
			madeOld = true
			err = st.root.Mkdir(old, 0o700)
		}
		if m.replace && err == nil {
			err = do(m.rel, old+"/"+strconv.Itoa(i))
		}
		if err == nil {
			err = do(st.dir+"/t/"+m.rel, m.rel)
		}
		if err != nil {
			return st.undo(m.rel, err, done)
		}
	}
	return nil
}

// undo reverses the renames done, newest first, after moving rel failed.
func (st *staging) undo(rel string, err error, done []rename) error {
	var undoErr error
	for _, r := range slices.Backward(done) {
		if e := st.root.Rename(r.to, r.from); e != nil && undoErr == nil {
			undoErr = e
		}
	}
	if undoErr != nil {
		return fmt.Errorf("moving %s into place: %w (undoing earlier moves failed too: %v)", entryname.Quote(rel), pathless(err), pathless(undoErr))
	}
	return fmt.Errorf("moving %s into place: %w", entryname.Quote(rel), pathless(err))
}
