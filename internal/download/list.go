package download

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"unicode"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
)

// Entry is one member of a listed archive.
type Entry struct {
	Name string      `json:"name"`
	Size int64       `json:"size"`
	Mode fs.FileMode `json:"-"`
	// ModeString is Mode as ls prints it, e.g. -rw-r--r--.
	ModeString string `json:"mode"`
}

// Listing is what List found.
type Listing struct {
	Label   string  `json:"job"`
	URL     string  `json:"url"`
	Entries []Entry `json:"entries"`
}

// List reads the entries of the selected archive from its central
// directory alone, by HTTP Range: the archive's tail, never its data.
func List(ctx context.Context, o Options) (*Listing, error) {
	if err := o.validate(true); err != nil {
		return nil, err
	}
	t, err := resolve(ctx, &o)
	if err != nil {
		return nil, err
	}
	attempts, err := plan(&o, t, false, true)
	if err != nil {
		return nil, err
	}
	var a *remotezip.Archive
	for _, at := range attempts {
		if a, _, err = openRanged(ctx, &o, t, at.url); !fallsBack(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	l := &Listing{Label: t.label, URL: redactURL(t.url()), Entries: []Entry{}}
	for _, e := range a.Entries() {
		l.Entries = append(l.Entries, Entry{Name: e.Name, Size: e.Size, Mode: e.Mode, ModeString: e.Mode.String()})
	}
	return l, nil
}

// Write prints one line per entry: mode, size, name. A name that is not
// plain printable text is quoted, so that no archive can write control
// characters to a terminal or forge a line.
func (l *Listing) Write(w io.Writer) error {
	for _, e := range l.Entries {
		if _, err := fmt.Fprintf(w, "%s %12d %s\n", e.ModeString, e.Size, SafeName(e.Name)); err != nil {
			return err
		}
	}
	return nil
}

// SafeName is name as is when it is plain printable text without
// surrounding spaces or quotes, else Go-quoted.
func SafeName(name string) string {
	plain := name != "" && strings.TrimSpace(name) == name && !strings.ContainsAny(name, `"\`)
	for _, r := range name {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			plain = false
		}
	}
	if plain {
		return name
	}
	return strconv.Quote(name)
}
