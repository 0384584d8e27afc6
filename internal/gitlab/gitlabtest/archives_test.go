package gitlabtest_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// member is what a test archive entry looks like when read back.
type member struct {
	mode fs.FileMode
	body string // content, or link target for a symlink
}

var hostile = []gitlabtest.ArchiveEntry{
	{Name: "bin/"},
	{Name: "bin/tool", Body: "#!/bin/sh\n", Mode: 0o755},
	{Name: "bin/link", Symlink: "../../etc/passwd"},
	{Name: "../evil", Body: "escape"},
	{Name: "readme.txt", Body: "hi"},
}

var wantHostile = map[string]member{
	"bin/":       {fs.ModeDir | 0o755, ""},
	"bin/tool":   {0o755, "#!/bin/sh\n"},
	"bin/link":   {fs.ModeSymlink | 0o777, "../../etc/passwd"},
	"../evil":    {0o644, "escape"},
	"readme.txt": {0o644, "hi"},
}

func TestBuildZipKeepsModesLinksAndHostileNames(t *testing.T) {
	data := gitlabtest.MakeZipEntries(t, hostile...)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		t.Fatal(err)
	}
	got := map[string]member{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		got[f.Name] = member{f.Mode(), string(body)}
	}
	compareMembers(t, got)
}

func TestBuildTarGzKeepsModesLinksAndHostileNames(t *testing.T) {
	data := gitlabtest.MakeTarGzEntries(t, hostile...)
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	got := map[string]member{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if h.Typeflag == tar.TypeSymlink {
			body = []byte(h.Linkname)
		}
		got[h.Name] = member{h.FileInfo().Mode(), string(body)}
	}
	compareMembers(t, got)
}

func compareMembers(t *testing.T, got map[string]member) {
	t.Helper()
	if len(got) != len(wantHostile) {
		t.Errorf("%d members, want %d: %v", len(got), len(wantHostile), got)
	}
	for name, want := range wantHostile {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}

func TestArchivesAreReproducible(t *testing.T) {
	files := map[string]string{"b": "2", "a": "1", "dir/c": "3"}
	if !bytes.Equal(gitlabtest.MakeZip(t, files), gitlabtest.MakeZip(t, files)) {
		t.Error("two zips of the same files differ")
	}
	if !bytes.Equal(gitlabtest.MakeTarGz(t, files), gitlabtest.MakeTarGz(t, files)) {
		t.Error("two tar.gz of the same files differ")
	}
	data, err := gitlabtest.BuildZip(gitlabtest.ArchiveEntry{Name: "only", Body: "x"})
	if err != nil || len(data) == 0 {
		t.Errorf("BuildZip: %d bytes, %v", len(data), err)
	}
}
