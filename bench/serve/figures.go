package main

import (
	"fmt"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// perPage is the page size of GitLab's pipeline-jobs listing that the
// service asks for (the API's maximum,
// https://docs.gitlab.com/api/rest/#pagination).
const perPage = 100

// measured is what one burst showed.
type measured struct {
	pipelines, jobs, calls int
	lat                    []time.Duration // sorted
	wall                   time.Duration
	failed                 int
	rssKiB                 int64         // -1: unknown
	cpu                    time.Duration // -1: unknown
	pages, bridges, checks int           // what GitLab saw
}

// figures names the burst's figures after its shape, so that the one
// pipeline and the many pipelines sit apart in the report.
func (m measured) figures() figures.Result {
	var rep figures.Result
	key := fmt.Sprintf("serve.p%d", m.pipelines)
	what := fmt.Sprintf("serve, %s of %d jobs, %d calls of GET /v1/env at once", plural(m.pipelines, "pipeline"), m.jobs, m.calls)
	fig := func(k, name, unit string, digits int, t *figures.Target) figures.Figure {
		return figures.Figure{Key: key + "." + k, Section: figures.SectionServe, Name: what + ": " + name,
			Unit: unit, Digits: digits, Target: t}
	}
	pages := m.pipelines * ((m.jobs + perPage - 1) / perPage)
	listing := fmt.Sprintf("one listing (%d pages)", pages)
	if m.pipelines > 1 {
		listing = fmt.Sprintf("one listing per pipeline (%d pages)", pages)
	}
	rep.Add(fig("pages", "pipeline-jobs pages GitLab served", "", 0, figures.AtMost(float64(pages), listing)), float64(m.pages))
	rep.Add(fig("bridges", "pipeline-bridges listings GitLab served", "", 0, nil), float64(m.bridges))
	rep.Add(fig("checks", "token checks GitLab served (GET /job)", "", 0,
		figures.Exactly(float64(m.calls), fmt.Sprintf("one per distinct job (%d)", m.calls))), float64(m.checks))
	rep.Add(fig("failed", "calls that failed", "", 0, figures.Exactly(0, "0")), float64(m.failed))
	rep.Add(fig("p50", "latency p50", "ms", 1, nil), ms(pct(m.lat, 50)))
	rep.Add(fig("p99", "latency p99", "ms", 1, nil), ms(pct(m.lat, 99)))
	rep.Add(fig("wall", "first call to last answer", "ms", 0, nil), ms(m.wall))
	rss, cpu := fig("rss", "the service's peak RSS", "MiB", 1, nil), fig("cpu", "the service's CPU time (user + system)", "s", 2, nil)
	if m.rssKiB < 0 || m.cpu < 0 {
		rep.Skip(rss, "unknown: no Linux /proc")
		rep.Skip(cpu, "unknown: no Linux /proc")
		return rep
	}
	rep.Add(rss, float64(m.rssKiB)/1024)
	rep.Add(cpu, m.cpu.Seconds())
	return rep
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
