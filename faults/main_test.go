// Package faults is the failure-injection suite: every fault pipeline-artifacts
// promises to survive, injected into the real binary driven as a separate
// process against the in-repo fake GitLab, each scenario asserting that
// nothing was lost. Run it alone with
//
//	go test -race -v ./faults/
//
// or across the module with `go test -race -v ./... -run '^TestFault[A-Z]'`
// (a bare `-run Fault` also matches two unit tests elsewhere). After the
// tests it prints a markdown table of what was injected and what held; go
// test shows a passing package's output only with -v.
package faults

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/testbin"
)

// binary is the pipeline-artifacts built once, with the race detector, for
// every scenario.
var binary string

func TestMain(m *testing.M) {
	var err error
	if binary, err = testbin.Path("-race"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	printTable(os.Stdout)
	os.Exit(code)
}

// row is one scenario of the printed table.
type row struct {
	name, fault, held, result string
}

// table collects the rows of every scenario that ran, from parallel tests.
var table struct {
	sync.Mutex
	rows []row
}

// scenario is one injected fault and the guarantee it is checked against.
type scenario struct {
	t           *testing.T
	fault, held string
	mu          sync.Mutex
	notes       []string
}

// inject records a scenario: its row is added to the table when the test
// ends, with the outcome (held, FAILED or skipped and why).
func inject(t *testing.T, fault, held string) *scenario {
	t.Helper()
	sc := &scenario{t: t, fault: fault, held: held}
	t.Cleanup(func() {
		result := "held"
		switch {
		case t.Failed():
			result = "**FAILED**"
		case t.Skipped():
			result = "skipped"
		}
		sc.mu.Lock()
		held := sc.held
		if len(sc.notes) > 0 {
			held += " (" + strings.Join(sc.notes, "; ") + ")"
		}
		sc.mu.Unlock()
		table.Lock()
		table.rows = append(table.rows, row{name: t.Name(), fault: sc.fault, held: held, result: result})
		table.Unlock()
	})
	return sc
}

// note adds an observation to the scenario's "what held" cell.
func (sc *scenario) note(format string, args ...any) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.notes = append(sc.notes, fmt.Sprintf(format, args...))
}

// skip ends the scenario as skipped and says why in the table.
func (sc *scenario) skip(format string, args ...any) {
	sc.t.Helper()
	reason := fmt.Sprintf(format, args...)
	sc.mu.Lock()
	sc.held = "not checked: " + reason
	sc.mu.Unlock()
	sc.t.Skip(reason)
}

func printTable(w io.Writer) {
	table.Lock()
	defer table.Unlock()
	if len(table.rows) == 0 {
		return
	}
	rows := slices.Clone(table.rows)
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.name, b.name) })
	var b bytes.Buffer
	b.WriteString("\n## Failure injection: what was injected and what held\n\n")
	b.WriteString("| scenario | fault injected | what held | result |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(r.name), cell(r.fault), cell(r.held), r.result)
	}
	_, _ = w.Write(b.Bytes())
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
