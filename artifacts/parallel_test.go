package artifacts

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

const (
	bigSize   = 1<<20 + 12345 // not a multiple of the chunk size
	testChunk = 64 << 10
)

func (f *fixture) parallelOptions() Options {
	o := f.options()
	o.Parallel, o.ChunkSize, o.ParallelMin = 4, testChunk, 1
	return o
}

// chunkRequests returns the object store's ranged requests as [first, last]
// pairs, and fails the test on any other Range.
func chunkRequests(t *testing.T, store *gitlabtest.ObjectStore) [][2]int64 {
	t.Helper()
	re := regexp.MustCompile(`^bytes=(\d+)-(\d+)$`)
	var out [][2]int64
	for _, r := range rangeHeaders(store, gitlabtest.RouteObject) {
		if r == "" || r == "bytes=0-0" {
			continue // the probe, or a refresh
		}
		m := re.FindStringSubmatch(r)
		if m == nil {
			t.Errorf("unexpected Range %q", r)
			continue
		}
		a, _ := strconv.ParseInt(m[1], 10, 64)
		b, _ := strconv.ParseInt(m[2], 10, 64)
		out = append(out, [2]int64{a, b})
	}
	return out
}

// onObjectRequest injects a fault into the object store's nth request, so
// that it hits a chunk rather than the probe.
func onObjectRequest(f *fixture, nth int, inject func()) {
	f.store.OnRequest(gitlabtest.RouteObject, func(n int) {
		if n == nth {
			inject()
		}
	})
}

func TestParallelRangesProduceTheSameFile(t *testing.T) {
	cases := []struct {
		name   string
		inject func(f *fixture)
		check  func(t *testing.T, f *fixture, res *Result)
	}{
		{
			name:   "without faults every chunk is fetched once",
			inject: func(*fixture) {},
			check: func(t *testing.T, f *fixture, res *Result) {
				if got, want := len(chunkRequests(t, f.store)), (bigSize+testChunk-1)/testChunk; got != want {
					t.Errorf("%d chunk requests, want %d", got, want)
				}
			},
		},
		{
			name: "a chunk cut mid-body resumes within the chunk",
			inject: func(f *fixture) {
				onObjectRequest(f, 3, func() { f.store.CutBodyAfter(gitlabtest.RouteObject, 1000) })
			},
			check: func(t *testing.T, f *fixture, res *Result) {
				if res.Resumed != 1 {
					t.Errorf("resumed = %d, want 1", res.Resumed)
				}
				for _, r := range chunkRequests(t, f.store) {
					if r[0]%testChunk == 1000 {
						return
					}
				}
				t.Errorf("no request resumed 1000 bytes into a chunk: %v", chunkRequests(t, f.store))
			},
		},
		{
			name: "an expired presigned URL is replaced by asking GitLab again",
			inject: func(f *fixture) {
				onObjectRequest(f, 4, func() { f.store.FailNext(gitlabtest.RouteObject, 1, http.StatusForbidden) })
			},
			check: func(t *testing.T, f *fixture, res *Result) {
				if n := f.srv.Count(gitlabtest.RouteArtifacts); n != 2 {
					t.Errorf("GitLab was asked %d times, want 2 (probe and refresh)", n)
				}
			},
		},
		{
			name:   "a store that ignores ranges makes it fall back to one stream",
			inject: func(f *fixture) { f.store.NoRanges(gitlabtest.RouteObject) },
			check: func(t *testing.T, f *fixture, res *Result) {
				if res.Streams != 1 {
					t.Errorf("streams = %d, want 1 after the fallback", res.Streams)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, randomBytes(bigSize), redirected()) // the store fails the test on any token
			tc.inject(f)
			o := f.parallelOptions()
			res, err := f.download(t, o)
			if err != nil {
				t.Fatal(err)
			}
			f.mustMatch(t, res, o.Output)
			mustHoldOnly(t, f.dir, "out.zip")
			tc.check(t, f, res)
		})
	}
}

func TestParallelRangesAreUsedOnlyAboveTheThreshold(t *testing.T) {
	f := newFixture(t, randomBytes(bigSize), redirected())
	o := f.parallelOptions()
	o.ParallelMin = bigSize + 1
	res, err := f.download(t, o)
	if err != nil {
		t.Fatal(err)
	}
	f.mustMatch(t, res, o.Output)
	if res.Streams != 1 || len(chunkRequests(t, f.store)) != 0 {
		t.Errorf("streams = %d with %d chunk requests, want one plain stream", res.Streams, len(chunkRequests(t, f.store)))
	}
}

func TestParallelRangesWithoutARedirectKeepTheCredential(t *testing.T) {
	// GitLab serving the archive itself needs the token on every chunk.
	f := newFixture(t, randomBytes(bigSize))
	o := f.parallelOptions()
	o.ParallelDirect = true
	res, err := f.download(t, o)
	if err != nil {
		t.Fatal(err)
	}
	f.mustMatch(t, res, o.Output)
	if res.Streams != 4 {
		t.Errorf("streams = %d, want 4", res.Streams)
	}
}

func TestParallelRangesAreForObjectStorageUnlessAsked(t *testing.T) {
	f := newFixture(t, randomBytes(bigSize))
	o := f.parallelOptions()
	res, err := f.download(t, o)
	if err != nil {
		t.Fatal(err)
	}
	f.mustMatch(t, res, o.Output)
	if res.Streams != 1 {
		t.Errorf("streams = %d for an archive GitLab sends itself, want 1", res.Streams)
	}
}

func TestSplitChunksCoversTheFileExactly(t *testing.T) {
	for _, size := range []int64{1, testChunk - 1, testChunk, testChunk + 1, 5*testChunk + 7} {
		var next int64
		for _, ck := range splitChunks(size, testChunk) {
			if ck.start != next || ck.end <= ck.start || ck.end-ck.start > testChunk {
				t.Fatalf("size %d: chunk [%d,%d) after %d", size, ck.start, ck.end, next)
			}
			next = ck.end
		}
		if next != size {
			t.Errorf("size %d: chunks end at %d", size, next)
		}
	}
}

// TestAChunkTheStoreRefusesNamesNoToken: an object store that keeps
// refusing the signed URL never saw the job token (the client sends none to
// another origin), so the error must not say the token was refused.
func TestAChunkTheStoreRefusesNamesNoToken(t *testing.T) {
	f := newFixture(t, randomBytes(bigSize), redirected())
	onObjectRequest(f, 2, func() { f.store.FailNext(gitlabtest.RouteObject, 1000, http.StatusForbidden) })
	o := f.parallelOptions()
	_, err := f.download(t, o)
	if err == nil {
		t.Fatal("the download succeeded against a store that refuses every chunk")
	}
	if msg := err.Error(); !strings.Contains(msg, "object store refused") || strings.Contains(msg, "CI_JOB_TOKEN") {
		t.Errorf("error %q, want the object store's refusal, naming no token", msg)
	}
	mustHoldOnly(t, f.dir)
}
