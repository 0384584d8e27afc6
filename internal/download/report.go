package download

import (
	"fmt"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
)

// JSON is --json's output.
type JSON struct {
	Found      bool    `json:"found"`
	Job        string  `json:"job,omitempty"`
	JobID      int64   `json:"job_id,omitempty"`
	URL        string  `json:"url"`
	Bytes      int64   `json:"bytes"`
	SHA256     string  `json:"sha256,omitempty"`
	VerifiedBy string  `json:"verified_by,omitempty"`
	Files      int     `json:"files"` // extracted; 0 with -o
	Seconds    float64 `json:"seconds"`
	Attempts   int     `json:"attempts"`
	Resumed    int     `json:"resumed"`
	Path       string  `json:"path,omitempty"`
	Dest       string  `json:"dest,omitempty"`
}

// JSON is the outcome as --json prints it.
func (out *Outcome) JSON() JSON {
	j := JSON{Found: out.Found, Job: out.Name, JobID: out.JobID, URL: out.URL}
	r := out.Result
	if !out.Found || r == nil {
		return j
	}
	j.URL, j.Bytes, j.Seconds, j.Attempts, j.Resumed, j.Path, j.Dest = r.URL, r.Bytes, r.Elapsed.Seconds(), r.Attempts, r.Resumed, r.Path, r.Dest
	if r.VerifiedBy != "" {
		j.SHA256, j.VerifiedBy = r.SHA256, r.VerifiedBy
	}
	if r.Extract != nil {
		j.Files = r.Extract.Files
	}
	return j
}

// Summary is the one line a log keeps, e.g. `job "build" (12): 1.2 MiB in
// 0.4s (3.0 MiB/s), sha256 … (GitLab ETag), 34 files extracted into public/`.
func (out *Outcome) Summary() string {
	r := out.Result
	secs := max(r.Elapsed.Seconds(), 0.001)
	s := fmt.Sprintf("%s: %s in %s (%s/s)", out.Label, artifacts.FormatBytes(r.Bytes),
		r.Elapsed.Round(time.Millisecond), artifacts.FormatBytes(int64(float64(r.Bytes)/secs)))
	switch {
	case r.VerifiedBy != "" && r.SHA256 != "":
		s += fmt.Sprintf(", verified by %s: %s", r.VerifiedBy, r.SHA256)
	case r.VerifiedBy != "":
		s += ", verified by " + r.VerifiedBy
	}
	switch {
	case r.Extract != nil:
		s += fmt.Sprintf(", %s extracted into %s", plural(r.Extract.Files, "file"), r.Dest)
	case r.Path != "":
		s += ", saved as " + r.Path
	default:
		s += ", written to stdout"
	}
	if out.ArchiveBytes > 0 {
		s += fmt.Sprintf(" (read %s of the %s archive by ranges)", artifacts.FormatBytes(out.ReadBytes), artifacts.FormatBytes(out.ArchiveBytes))
	}
	if r.Attempts > 1 {
		s += fmt.Sprintf(" (%s, %d resumed)", plural(r.Attempts, "request"), r.Resumed)
	}
	if r.Streams > 1 {
		s += fmt.Sprintf(" [%d streams]", r.Streams)
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
