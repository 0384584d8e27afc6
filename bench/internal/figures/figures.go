// Package figures is how the benchmark programs under bench/ hand over what
// they measured: a Result of named figures, each with one value per run and
// the goal set for it, as JSON for bench/report and as a markdown table for
// a person.
package figures

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
)

// Target is the goal set for a figure, judged on the median.
type Target struct {
	Op    string  `json:"op"` // "<=", ">=" or "=="
	Value float64 `json:"value"`
	Text  string  `json:"text"` // as the goal is worded
}

// AtMost, AtLeast and Exactly make targets; text is what the table shows.
func AtMost(v float64, text string) *Target  { return &Target{Op: "<=", Value: v, Text: text} }
func AtLeast(v float64, text string) *Target { return &Target{Op: ">=", Value: v, Text: text} }
func Exactly(v float64, text string) *Target { return &Target{Op: "==", Value: v, Text: text} }

// Met reports whether v reaches the target.
func (t *Target) Met(v float64) bool {
	switch t.Op {
	case "<=":
		return v <= t.Value
	case ">=":
		return v >= t.Value
	default:
		return math.Abs(v-t.Value) < 1e-9
	}
}

// Sections of BENCHMARKS.md: what a figure is about, which decides where
// bench/report shows it.
const (
	SectionStartup   = "startup"   // the run stage against the floor of any Go wrapper
	SectionResolve   = "resolve"   // listing a pipeline's jobs; the config stage
	SectionListing   = "listing"   // one listing per pipeline per host: the cache, fan-out
	SectionServe     = "serve"     // the serve service under a fleet's start-up burst
	SectionCurl      = "curl"      // one download against curl
	SectionCurlCPU   = "curl.cpu"  // the same runs' user and system CPU time
	SectionDownload  = "download"  // memory while extracting; parallel ranges
	SectionRemoteZip = "remotezip" // one file out of a big archive by Range reads
	SectionExtract   = "extract"   // extraction against unzip
)

// Figure is one measured quantity. Key identifies it across runs and
// programs; Values holds one value per run.
type Figure struct {
	Key     string    `json:"key"`
	Section string    `json:"section"`
	Name    string    `json:"name"`
	Unit    string    `json:"unit"`   // "ms", "×", "MB/s", …
	Digits  int       `json:"digits"` // decimals shown
	Values  []float64 `json:"values"`
	Target  *Target   `json:"target,omitempty"`
	Skipped string    `json:"skipped,omitempty"` // why there is no value
}

// Median is the median of the figure's values (0 without any).
func (f Figure) Median() float64 { return Median(f.Values) }

// Format shows v in the figure's unit.
func (f Figure) Format(v float64) string {
	s := fmt.Sprintf("%.*f", f.Digits, v)
	switch f.Unit {
	case "":
		return s
	case "×":
		return s + "×"
	default:
		return s + " " + f.Unit
	}
}

// Verdict judges the median against the target and counts the runs that
// met it on their own; it is empty for a figure without a target.
func (f Figure) Verdict() string {
	switch {
	case f.Skipped != "":
		return "skipped"
	case f.Target == nil || len(f.Values) == 0:
		return ""
	}
	met := 0
	for _, v := range f.Values {
		if f.Target.Met(v) {
			met++
		}
	}
	verdict := "MISSED"
	if f.Target.Met(f.Median()) {
		verdict = "ok"
	}
	if len(f.Values) == 1 {
		return verdict
	}
	return fmt.Sprintf("%s (%d of %d runs met it)", verdict, met, len(f.Values))
}

// Missed reports whether the figure has a target its median does not meet.
func (f Figure) Missed() bool {
	return f.Skipped == "" && f.Target != nil && len(f.Values) > 0 && !f.Target.Met(f.Median())
}

// Result is what one benchmark program measured.
type Result struct {
	Figures []Figure `json:"figures"`
	Notes   []string `json:"notes,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// Add records one run's value of a figure, appending it to the values of a
// figure with the same key.
func (r *Result) Add(f Figure, v float64) {
	if i := r.index(f.Key); i >= 0 {
		r.Figures[i].Values = append(r.Figures[i].Values, v)
		return
	}
	f.Values = []float64{v}
	r.Figures = append(r.Figures, f)
}

// Skip records a figure that could not be taken, and why.
func (r *Result) Skip(f Figure, why string) {
	if r.index(f.Key) < 0 {
		f.Skipped = why
		r.Figures = append(r.Figures, f)
	}
}

// Merge adds the figures of o to r, run by run; o's notes replace r's, so
// that the notes are the last run's.
func (r *Result) Merge(o Result) {
	for _, f := range o.Figures {
		i := r.index(f.Key)
		switch {
		case i < 0:
			r.Figures = append(r.Figures, f)
		case f.Skipped == "":
			r.Figures[i].Values = append(r.Figures[i].Values, f.Values...)
		}
	}
	if len(o.Notes) > 0 {
		r.Notes = o.Notes
	}
	r.Errors = append(r.Errors, o.Errors...)
}

// Note adds a line that explains a figure.
func (r *Result) Note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Get returns the figure with key, and whether it has values.
func (r *Result) Get(key string) (Figure, bool) {
	i := r.index(key)
	if i < 0 {
		return Figure{}, false
	}
	return r.Figures[i], len(r.Figures[i].Values) > 0
}

func (r *Result) index(key string) int {
	return slices.IndexFunc(r.Figures, func(f Figure) bool { return f.Key == key })
}

// WriteJSON writes r for bench/report.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteTable writes figs as a markdown table: the median, the range over
// the runs, the target and the verdict.
func WriteTable(w io.Writer, figs []Figure) {
	fmt.Fprintln(w, "| figure | median | min – max | target | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, f := range figs {
		median, spread := "—", "—"
		switch {
		case f.Skipped != "":
			median = f.Skipped
		case len(f.Values) > 0:
			median = f.Format(f.Median())
		}
		if len(f.Values) > 1 {
			spread = fmt.Sprintf("%s – %s (%d runs)", f.Format(slices.Min(f.Values)), f.Format(slices.Max(f.Values)), len(f.Values))
		}
		target := ""
		if f.Target != nil {
			target = f.Target.Text
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", f.Name, median, spread, target, f.Verdict())
	}
}

// Median is the middle value of vs, or the mean of the two middle ones;
// it takes durations too.
func Median[T ~int64 | ~float64](vs []T) T {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
