package artifacts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

func TestWaitSeesTheArtifactAppear(t *testing.T) {
	f := newFixture(t, nil, withoutArtifact())
	f.data = randomBytes(archiveSize)
	f.srv.OnRequest(gitlabtest.RouteArtifacts, func(n int) {
		if n == 3 {
			f.srv.SetArtifact(f.job.ID, f.data) // the producer uploads
		}
	})
	clk := newFakeClock()
	o := f.options()
	o.Wait, o.clock = 10*time.Minute, clk.clock()
	o.Status = func(context.Context) (string, error) { return "running", nil }
	res, err := f.download(t, o)
	if err != nil {
		t.Fatal(err)
	}
	f.mustMatch(t, res, o.Output)
	if len(clk.slept) != 2 {
		t.Errorf("slept %v, want two polls' worth", clk.slept)
	}
}

func TestWaitStopsEarlyWhenTheJobEndedWithoutArtifacts(t *testing.T) {
	cases := []struct {
		status, want string
	}{
		{"failed", `ended with status "failed"`},
		{"canceled", `ended with status "canceled"`},
		{"skipped", `ended with status "skipped"`},
		{"success", "succeeded without uploading artifacts"},
	}
	for _, tc := range cases {
		t.Run("the job "+tc.status, func(t *testing.T) {
			f := newFixture(t, nil, withoutArtifact())
			clk := newFakeClock()
			o := f.options()
			o.Wait, o.clock = time.Hour, clk.clock()
			o.Status = func(context.Context) (string, error) { return tc.status, nil }
			_, err := f.download(t, o)
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want not found: %s", err, tc.want)
			}
			// One look after the status, in case it uploaded just before.
			if n := f.srv.Count(gitlabtest.RouteArtifacts); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
			mustBeEmpty(t, f.dir)
		})
	}
}

func TestWaitGivesUpAtTheDeadline(t *testing.T) {
	f := newFixture(t, nil, withoutArtifact())
	clk := newFakeClock()
	o := f.options()
	o.Wait, o.clock = time.Minute, clk.clock()
	o.PollMin, o.PollMax = time.Second, 10*time.Second
	o.Status = func(context.Context) (string, error) { return "", errors.New("403 Forbidden") } // dropped after this
	_, err := f.download(t, o)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "none appeared within 1m0s") {
		t.Fatalf("error = %v, want a deadline", err)
	}
	var total time.Duration
	for _, d := range clk.slept {
		if d > 10*time.Second {
			t.Errorf("slept %v, more than the cap", d)
		}
		total += d
	}
	if total != time.Minute {
		t.Errorf("waited %v in all, want exactly the minute", total)
	}
	mustBeEmpty(t, f.dir)
}

func TestWaitPollsOnlyOn404(t *testing.T) {
	f := newFixture(t, randomBytes(100), sending(0, ""))
	o := f.options()
	o.Wait, o.clock = time.Hour, newFakeClock().clock()
	_, err := f.download(t, o)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("error = %v, want the 401 at once", err)
	}
	if n := f.srv.Count(gitlabtest.RouteArtifacts); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
