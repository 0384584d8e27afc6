package gitlab_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// TestARetryDuringTheListingSkipsNoRow retries a job while the pages of a
// 1,000-job pipeline are read concurrently (with latency, so they overlap).
// Whatever order the pages arrive in, every job that existed throughout is
// listed, at most three round trips are spent, and the new attempt replaces
// the old one once the listing is read again.
func TestARetryDuringTheListingSkipsNoRow(t *testing.T) {
	for _, nth := range []int{2, 5, 10} {
		t.Run(fmt.Sprintf("retry before request %d", nth), func(t *testing.T) {
			gl := pipelineWithJobs(t, 1000, gitlabtest.Latency(5*time.Millisecond))
			// "job a" is the oldest: every row above it moves.
			gl.RetryDuringListing(pipeline, "job a", nth)
			jobs, err := fastClient(t, gl, adminCred).PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]int{}
			for _, j := range jobs {
				names[j.Name]++
			}
			if len(names) != 1000 || len(jobs) != 1000 {
				t.Fatalf("%d jobs with %d names, want 1000 of each", len(jobs), len(names))
			}
			t.Logf("%d requests", gl.Count(gitlabtest.RouteJobs))
			// Round trips: page 1, pages 2-10 at once, then all 10 again.
			if n := gl.Count(gitlabtest.RouteJobs); n > 1+9+10 {
				t.Errorf("%d requests, want at most 20 (three round trips)", n)
			}
		})
	}
}

func TestAStableListingCostsTwoRoundTrips(t *testing.T) {
	gl := pipelineWithJobs(t, 1000)
	jobs, err := fastClient(t, gl, adminCred).PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{})
	if err != nil || len(jobs) != 1000 {
		t.Fatalf("%d jobs, %v", len(jobs), err)
	}
	if n := gl.Count(gitlabtest.RouteJobs); n != 10 {
		t.Errorf("%d requests, want 10", n)
	}
}

// TestChildPipelinesOnEveryProfile: trigger_jobs where it exists, else
// bridges; the job token is refused on 18.x bridges, an admin token never.
func TestChildPipelinesOnEveryProfile(t *testing.T) {
	for _, p := range gitlabtest.Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			gl := pipelineWithJobs(t, 1, gitlabtest.WithProfile(p))
			gl.AddPipeline(project, pipeline+1, gitlabtest.ChildOf(pipeline, "docs"))
			deploy := gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "deploy", Token: "glcbt-children-job"})
			for _, cred := range []gitlab.Credential{adminCred, {Kind: gitlab.JobToken, Token: deploy.Token}} {
				c := fastClient(t, gl, cred)
				bridges, err := c.PipelineBridges(t.Context(), "7", pipeline)
				wantOK := cred.Kind == gitlab.PrivateToken || p.JobTokenListsBridges()
				if wantOK != (err == nil) {
					t.Fatalf("%s: err = %v, want ok=%t", cred, err, wantOK)
				}
				if err != nil {
					if got := gitlab.Cause(err); got != gitlab.RefusalJobTokenIgnored {
						t.Errorf("Cause = %v, want RefusalJobTokenIgnored", got)
					}
					continue
				}
				if len(bridges) != 1 || bridges[0].DownstreamPipeline == nil || bridges[0].DownstreamPipeline.ID != pipeline+1 {
					t.Errorf("bridges = %+v", bridges)
				}
				// A second call goes straight to the route that answered.
				before := gl.Count(gitlabtest.RouteTriggerJobs)
				if _, err := c.PipelineBridges(t.Context(), "7", pipeline); err != nil {
					t.Fatal(err)
				}
				if after := gl.Count(gitlabtest.RouteTriggerJobs); !p.HasTriggerJobs() && after != before {
					t.Errorf("trigger_jobs asked again after a 404")
				}
			}
		})
	}
}

func TestNewLeavesATokenTheCallerMasksOutOfTheRegister(t *testing.T) {
	t.Cleanup(secret.Reset)
	const tok = "glcbt-one-request-of-a-fleet"
	opts := gitlab.Options{BaseURL: "http://gl/api/v4", Credential: gitlab.Credential{Kind: gitlab.JobToken, Token: tok}, MaskedByCaller: true}
	for range 3 {
		if _, err := gitlab.New(opts); err != nil {
			t.Fatal(err)
		}
	}
	if got := secret.Mask("echo " + tok); got != "echo "+tok {
		t.Errorf("Mask = %q: New registered a token its caller masks per request", got)
	}
}

func TestNewRegistersTheTokenForMasking(t *testing.T) {
	t.Cleanup(secret.Reset)
	const tok = "glpat-registered-by-new"
	if _, err := gitlab.New(gitlab.Options{BaseURL: "http://gl/api/v4", Credential: gitlab.Credential{Kind: gitlab.PrivateToken, Token: tok}}); err != nil {
		t.Fatal(err)
	}
	if got := secret.Mask("echo " + tok); strings.Contains(got, tok) {
		t.Errorf("Mask = %q: New did not register its token", got)
	}
	e := &gitlab.APIError{Method: "GET", URL: "http://gl/api/v4/x", StatusCode: 400, Message: "bad token " + tok}
	if strings.Contains(e.Error(), tok) {
		t.Errorf("APIError shows a token the server echoed: %q", e.Error())
	}
}

// TestAMissingPipelineDoesNotRetireTriggerJobs: a 404 for a pipeline that
// does not exist is not GitLab lacking the /trigger_jobs route; a long-lived
// client (the fleet service's) must keep using it.
func TestAMissingPipelineDoesNotRetireTriggerJobs(t *testing.T) {
	gl := pipelineWithJobs(t, 1, gitlabtest.WithProfile(gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version19_2}))
	gl.AddPipeline(project, pipeline+1, gitlabtest.ChildOf(pipeline, "docs"))
	c := fastClient(t, gl, adminCred)
	if _, err := c.PipelineBridges(t.Context(), "7", 999999); err == nil {
		t.Fatal("a pipeline that does not exist was listed")
	}
	before := gl.Count(gitlabtest.RouteTriggerJobs)
	if _, err := c.PipelineBridges(t.Context(), "7", pipeline); err != nil {
		t.Fatal(err)
	}
	if gl.Count(gitlabtest.RouteTriggerJobs) != before+1 {
		t.Error("after one missing pipeline the client stopped asking /trigger_jobs")
	}
}
