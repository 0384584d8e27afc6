package main

import (
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// stagesSection reports whether bench/stages writes the section, which is
// what -only stages regenerates.
func stagesSection(section string) bool {
	return section == figures.SectionStartup || section == figures.SectionResolve || section == figures.SectionListing
}

// notesTitle heads the notes of a BENCHMARKS.md.
const notesTitle = "Notes from the last run"

// keptSections splits a BENCHMARKS.md into its "## " sections, by title,
// each as written (heading, text and the blank line after it).
func keptSections(md string) map[string]string {
	kept := map[string]string{}
	parts := strings.Split("\n"+md, "\n## ")
	for _, p := range parts[1:] {
		title, _, _ := strings.Cut(p, "\n")
		kept[title] = "## " + p + "\n"
	}
	return kept
}

// keptMissed lists the missed targets of the kept sections that bench/stages
// does not write, from their tables' MISSED rows.
func keptMissed(kept map[string]string) []string {
	var missed []string
	for _, a := range areas {
		old, ok := kept[a.title]
		if !ok || stagesSection(a.section) {
			continue
		}
		for line := range strings.Lines(old) {
			cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
			if len(cells) == 5 && strings.Contains(cells[4], "MISSED") {
				missed = append(missed, strings.TrimSpace(cells[0])+" — "+strings.TrimSpace(cells[1])+" against "+strings.TrimSpace(cells[3]))
			}
		}
	}
	return missed
}

// keptNotes are the kept file's notes that bench/stages did not write
// (its own all begin with "run stage").
func keptNotes(kept map[string]string) []string {
	var notes []string
	for line := range strings.Lines(kept[notesTitle]) {
		if n, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "- "); ok && !strings.HasPrefix(n, "run stage") {
			notes = append(notes, n)
		}
	}
	return notes
}
