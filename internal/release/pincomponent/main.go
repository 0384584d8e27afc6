// Command pincomponent writes a release's SHA-256 digests into the CI/CD
// component (make component), or checks that they are there
// (make check-component, run by the tag pipeline after make dist):
//
//	go run ./internal/release/pincomponent -version 1.2.3 dist/SHA256SUMS
//	go run ./internal/release/pincomponent -check -version 1.2.3 dist/SHA256SUMS
//
// Run it from the repository root.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/release"
)

func main() {
	check := flag.Bool("check", false, "only check that the component pins SHA256SUMS; exit 1 when not")
	version := flag.String("version", "", "release tag, e.g. 1.2.3 (a leading v is dropped)")
	template := flag.String("template", release.Template, "the component template")
	flag.Parse()
	if flag.NArg() != 1 || *version == "" {
		fmt.Fprintln(os.Stderr, "usage: pincomponent [-check] -version X.Y.Z dist/SHA256SUMS")
		os.Exit(2)
	}
	if err := run(*check, strings.TrimPrefix(*version, "v"), *template, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "pincomponent:", err)
		os.Exit(1)
	}
}

func run(check bool, version, template, sumsFile string) error {
	f, err := os.Open(sumsFile)
	if err != nil {
		return err
	}
	defer f.Close()
	sums, err := release.ParseSums(f)
	if err != nil {
		return fmt.Errorf("%s: %w", sumsFile, err)
	}
	text, err := os.ReadFile(template)
	if err != nil {
		return err
	}
	if check {
		bad, err := release.Check(text, version, sums)
		if err != nil {
			return err
		}
		for _, b := range bad {
			fmt.Fprintln(os.Stderr, template+": "+b)
		}
		if len(bad) > 0 {
			return fmt.Errorf("%d pinned digests disagree with %s; run make component", len(bad), sumsFile)
		}
		return nil
	}
	out, err := release.Pin(text, version, sums)
	if err != nil {
		return err
	}
	tmp := template + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, template)
}
