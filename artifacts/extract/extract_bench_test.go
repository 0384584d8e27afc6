package extract

import (
	"archive/zip"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeZip10k writes a build-output-like zip: 10,000 files of 1–7 KiB of
// compressible text in 100 directories.
func writeZip10k(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "10k.zip")
	f := create(b, path)
	zw := zip.NewWriter(f)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("func return error nil if else for range package import type struct string int byte var const")
	var body strings.Builder
	for i := range 10_000 {
		body.Reset()
		for n := 1024 + rng.IntN(6<<10); body.Len() < n; {
			body.WriteString(words[rng.IntN(len(words))])
			body.WriteByte(" \n"[rng.IntN(2)])
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("dir%02d/file%04d.go", i%100, i), Method: zip.Deflate})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write([]byte(body.String())); err != nil {
			b.Fatal(err)
		}
	}
	closeAll(b, zw, f)
	return path
}

// extractLoop runs extract into a fresh directory per iteration and removes
// it outside the timer.
func extractLoop(b *testing.B, extract func(archive, dest string) error) {
	archive := writeZip10k(b)
	base := b.TempDir()
	i := 0
	for b.Loop() {
		dest := filepath.Join(base, strconv.Itoa(i))
		if err := extract(archive, dest); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.RemoveAll(dest); err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
	}
	b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "files/s")
}

func BenchmarkExtractZip10k(b *testing.B) {
	extractLoop(b, func(archive, dest string) error {
		_, err := Extract(b.Context(), archive, dest, Limits{})
		return err
	})
}

// BenchmarkUnzip10k runs Info-ZIP's unzip on the same archive, for the ratio.
func BenchmarkUnzip10k(b *testing.B) {
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		b.Skip("unzip not installed")
	}
	extractLoop(b, func(archive, dest string) error {
		out, err := exec.Command(unzip, "-q", "-o", archive, "-d", dest).CombinedOutput()
		if err != nil {
			return fmt.Errorf("unzip: %v: %s", err, out)
		}
		return nil
	})
}
