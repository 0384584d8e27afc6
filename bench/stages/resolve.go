package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// A 1,000-job pipeline (10 pages of 100) at 50 ms per request resolves in
// two round trips, not ten: the first page, then the other nine at once.
// What the code can reach on this machine is those two round trips plus
// the work of the same listing without latency (the fake's rendering and
// the client's decoding), measured in the same run; the target allows
// reachAllowed over it for the noise of 2 shared cores.
const (
	resolveJobs    = 1000
	requestLatency = 50 * time.Millisecond
	reachRounds    = 2
	reachAllowed   = 1.10
)

// listing is what timing one way of listing found.
type listing struct {
	median   time.Duration
	requests int // per listing
	waves    int // median number of bursts the requests came in
}

func (l listing) roundTrips() float64 { return float64(l.median) / float64(requestLatency) }

// resolve times client.PipelineJobs for the 1,000-job pipeline, with a new
// client per run as each config process has: at the client's default page
// concurrency, at 8 (the default before it became 16, for contrast), and
// without latency (what the fake's rendering and the client's decoding
// cost).
func (b *bench) resolve(ctx context.Context) error {
	def, err := b.listings(ctx, requestLatency, 0)
	if err != nil {
		return err
	}
	narrow, err := b.listings(ctx, requestLatency, 8)
	if err != nil {
		return err
	}
	floor, err := b.listings(ctx, 0, 0)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("resolve %d jobs at %d ms per request (%d requests; median of %d)",
		resolveJobs, requestLatency.Milliseconds(), def.requests, b.resolveRuns)
	b.rep.Add(figures.Figure{Key: "resolve.roundtrips", Section: figures.SectionResolve, Name: name + ": round trips (wall time ÷ latency)",
		Unit: "round trips", Digits: 2}, def.roundTrips())
	b.addMS(figures.SectionResolve, "resolve.ms", name+": wall time", def.median)
	b.rep.Add(figures.Figure{Key: "resolve.waves", Section: figures.SectionResolve, Name: name + ": bursts (waves) the requests came in"},
		float64(def.waves))
	b.rep.Add(figures.Figure{Key: "resolve.c8.roundtrips", Section: figures.SectionResolve,
		Name: "resolve, same with client Concurrency 8 (the old default; now 16): round trips", Unit: "round trips",
		Digits: 2}, narrow.roundTrips())
	b.addMS(figures.SectionResolve, "resolve.nolatency", "resolve, same without latency (fake's rendering + client's decoding)", floor.median)
	reach := reachRounds*requestLatency + floor.median
	b.addMS(figures.SectionResolve, "resolve.reach", fmt.Sprintf("resolve, reachable here: %d round trips + the listing without latency (same run)", reachRounds), reach)
	b.addRatio(figures.SectionResolve, "resolve.reach.ratio", "resolve, wall time ÷ reachable here", def.median, reach,
		figures.AtMost(reachAllowed, fmt.Sprintf("≤ %.2f× (reachable + noise)", reachAllowed)))
	return nil
}

// listings serves the 1,000-job pipeline with the given latency and times
// resolveRuns listings; concurrency 0 is the client's default.
func (b *bench) listings(ctx context.Context, latency time.Duration, concurrency int) (listing, error) {
	gl, err := serveFake(gitlabtest.Latency(latency))
	if err != nil {
		return listing{}, err
	}
	defer gl.close()
	gl.addJobs(resolveJobs)
	var arr arrivals
	gl.OnRequest(gitlabtest.RouteJobs, arr.add)
	var times []time.Duration
	var waves []int
	for range b.resolveRuns {
		took, err := timeListing(ctx, gl, concurrency)
		if err != nil {
			return listing{}, err
		}
		times, waves = append(times, took), append(waves, arr.waves())
	}
	slices.Sort(waves)
	return listing{median: figures.Median(times), requests: gl.Count(gitlabtest.RouteJobs) / b.resolveRuns,
		waves: waves[len(waves)/2]}, nil
}

func timeListing(ctx context.Context, gl *fake, concurrency int) (time.Duration, error) {
	c, err := gitlab.New(gitlab.Options{BaseURL: gl.APIURL(), Concurrency: concurrency,
		Credential: gitlab.Credential{Kind: gitlab.PrivateToken, Token: adminToken}})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	jobs, err := c.PipelineJobs(ctx, strconv.Itoa(projectID), pipelineID, gitlab.ListOptions{})
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	if len(jobs) != resolveJobs {
		return 0, fmt.Errorf("listed %d jobs, want %d", len(jobs), resolveJobs)
	}
	return took, nil
}

// arrivals records when listing requests reach the fake, to count the
// bursts ("waves") in which the client sends them.
type arrivals struct {
	mu sync.Mutex
	at []time.Time
}

func (a *arrivals) add(int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at = append(a.at, time.Now())
}

// waves counts the bursts since the last call: a gap of more than half a
// latency starts a new one.
func (a *arrivals) waves() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	slices.SortFunc(a.at, func(x, y time.Time) int { return x.Compare(y) })
	n := 0
	for i, t := range a.at {
		if i == 0 || t.Sub(a.at[i-1]) > requestLatency/2 {
			n++
		}
	}
	a.at = nil
	return n
}
