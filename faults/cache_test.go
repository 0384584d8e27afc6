package faults

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// olderWithAdmin is a GitLab that refuses the job token for listings, and
// the runner host's admin token that it accepts; config stages then share
// the host cache in cacheDir.
func olderWithAdmin(t *testing.T) (runnersim.Seed, []string) {
	t.Helper()
	p := newPipeline(t, gitlabtest.OlderGitLab())
	p.GL.AddToken(adminToken, projectID)
	return p, []string{"PIPELINE_ARTIFACTS_API_TOKEN_FILE=" + writeTokenFile(t),
		"PIPELINE_ARTIFACTS_CACHE_DIR=" + t.TempDir(), "PIPELINE_ARTIFACTS_CACHE_TTL=1m"}
}

// startConfig starts one config stage of the deploy job, as the runner does.
func startConfig(t *testing.T, p runnersim.Seed, extra ...string) *proc {
	t.Helper()
	env, tmp := stageEnv(t, deployJob(p, ""))
	return start(t, tmp, append(env, extra...), "config")
}

func envOf(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// TestFaultCache attacks the host cache that concurrent jobs of one pipeline
// share: many writers at once, and a writer killed while it holds the lock.
func TestFaultCache(t *testing.T) {
	t.Parallel()

	t.Run("12 concurrent config stages share one listing", func(t *testing.T) {
		t.Parallel()
		sc := inject(t, "12 config processes of one pipeline start at once against an older GitLab (job token refused) with one cache dir",
			"all 12 got the full listing; GitLab saw at most 2 pipeline-jobs requests")
		p, env := olderWithAdmin(t)
		procs := make([]*proc, 12)
		for i := range procs {
			procs[i] = startConfig(t, p, env...)
		}
		for i, pr := range procs {
			pr.wait(t)
			if pr.code() != 0 || !strings.Contains(pr.stdout.String(), `"ARTIFACT_URLS_TEST"`) {
				t.Errorf("config %d did not get the full listing: %v", i, pr)
			}
		}
		n := p.GL.Count(gitlabtest.RouteJobs)
		sc.note("GitLab saw %d", n)
		if n > 2 {
			t.Errorf("GitLab saw %d pipeline-jobs listings for 12 concurrent jobs, want at most 2", n)
		}
	})

	t.Run("a writer killed with SIGKILL while it holds the lock", func(t *testing.T) {
		t.Parallel()
		sc := inject(t, "SIGKILL to a config process holding the cache lock while GitLab stalls its listing",
			"the kernel dropped the lock; the next config got the full listing; the cache holds only complete entries, which a third config reads")
		p, env := olderWithAdmin(t)
		cacheDir := envOf(env, "PIPELINE_ARTIFACTS_CACHE_DIR")
		p.GL.Stall(gitlabtest.RouteJobs)
		listing := seen(p.GL, gitlabtest.RouteJobs)
		victim := startConfig(t, p, env...)
		waitChan(t, "the stalled listing request", listing)
		assertLocked(t, cacheDir)
		victim.signal(syscall.SIGKILL)
		victim.wait(t)
		if sig, ok := victim.signaled(); !ok || sig != syscall.SIGKILL {
			t.Fatalf("the victim was not killed by SIGKILL: %v", victim)
		}
		if victim.stdout.String() != "" {
			t.Errorf("the killed config printed on stdout: %q", victim.stdout.String())
		}

		next := startConfig(t, p, env...)
		next.wait(t)
		if next.code() != 0 || !strings.Contains(next.stdout.String(), `"ARTIFACT_URLS_TEST"`) {
			t.Fatalf("the config after the kill did not get the full listing: %v", next)
		}
		orphans := checkCacheDir(t, cacheDir)
		if orphans > 0 {
			sc.note("%d orphan temporary file(s), ignored by readers", orphans)
		}
		before := p.GL.Count(gitlabtest.RouteJobs)
		reader := startConfig(t, p, env...)
		reader.wait(t)
		if reader.code() != 0 || !strings.Contains(reader.stdout.String(), `"ARTIFACT_URLS_TEST"`) {
			t.Fatalf("a config reading the cache did not get the full listing: %v", reader)
		}
		if after := p.GL.Count(gitlabtest.RouteJobs); after != before || !strings.Contains(reader.stderr.String(), "cached") {
			t.Errorf("the reader listed again (%d → %d requests) instead of reading the cache:\n%s", before, after, reader.stderr.String())
		}
	})
}

// assertLocked checks that someone holds the cache's one lock file.
func assertLocked(t *testing.T, cacheDir string) {
	t.Helper()
	locks, _ := filepath.Glob(filepath.Join(cacheDir, "*.lock"))
	if len(locks) != 1 {
		t.Fatalf("cache dir holds %d lock files while a listing is in flight, want 1", len(locks))
	}
	f, err := os.Open(locks[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		t.Fatal("nobody holds the cache lock while the listing is in flight")
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatal(err)
	}
}

// checkCacheDir asserts that every entry a reader would open is complete
// JSON of a listing; lock files and orphan temporary files (never read) are
// allowed. It returns the number of orphans.
func checkCacheDir(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	orphans := 0
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".lock"):
		case strings.HasPrefix(name, "."):
			orphans++
		case strings.HasSuffix(name, ".json"):
			b, err := os.ReadFile(filepath.Join(dir, name))
			var entry struct {
				Key  string            `json:"key"`
				Jobs []json.RawMessage `json:"jobs"`
			}
			if err != nil || json.Unmarshal(b, &entry) != nil || entry.Key == "" {
				t.Errorf("cache entry %s is not a complete listing: %v %q", name, err, b)
			}
			if strings.Contains(string(b), adminToken) || strings.Contains(string(b), jobToken) {
				t.Errorf("cache entry %s holds a token", name)
			}
			if fi, err := e.Info(); err == nil && fi.Mode().Perm() != 0o600 {
				t.Errorf("cache entry %s has mode %v, want 0600", name, fi.Mode().Perm())
			}
		default:
			t.Errorf("cache dir holds %s, which no reader expects", name)
		}
	}
	return orphans
}
