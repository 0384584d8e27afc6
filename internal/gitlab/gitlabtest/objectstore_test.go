package gitlabtest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// safeClient strips credentials when a redirect leaves the host:port, as
// pipeline-artifacts' client must.
func safeClient(t *testing.T) *http.Client {
	c := newClient(t)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != via[0].URL.Host {
			for _, h := range []string{"JOB-TOKEN", "PRIVATE-TOKEN", "Authorization"} {
				req.Header.Del(h)
			}
		}
		return nil
	}
	return c
}

func TestArchiveRedirectsToTheObjectStore(t *testing.T) {
	f := newFixture(t)
	store := gitlabtest.NewObjectStore(t) // any token reaching it fails this test
	f.s.RedirectTo(store)
	c := safeClient(t)

	resp, body := get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	final := resp.Request.URL
	storeURL, _ := url.Parse(store.URL)
	if !bytes.Equal(body, f.zip) || final.Host != storeURL.Host ||
		final.Path != fmt.Sprintf("/bucket/%d/artifacts.zip", f.build.ID) || final.Query().Get("X-Amz-Signature") == "" {
		t.Fatalf("ended at %s with %d bytes, want the presigned object with the archive", final, len(body))
	}
	if f.s.Count(gitlabtest.RouteArtifacts) != 1 || store.Count(gitlabtest.RouteObject) != 1 {
		t.Errorf("counts: artifacts %d, object %d; want 1 and 1",
			f.s.Count(gitlabtest.RouteArtifacts), store.Count(gitlabtest.RouteObject))
	}

	t.Run("ranges and If-Range work on the object store", func(t *testing.T) {
		resp, body := get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning,
			"Range", "bytes=10-", "If-Range", resp.Header.Get("ETag"))
		wantStatus(t, resp, body, 206)
		if !bytes.Equal(body, f.zip[10:]) {
			t.Errorf("got %d bytes, want the tail", len(body))
		}
		if got := store.Requests()[1].Header.Get("Range"); got != "bytes=10-" {
			t.Errorf("the object store saw Range %q", got)
		}
	})
	t.Run("the runner API redirects only with direct_download=true", func(t *testing.T) {
		for query, wantHost := range map[string]string{"": f.s.URL, "?direct_download=true": store.URL} {
			resp, body := get(t, c, fmt.Sprintf("%s/jobs/%d/artifacts%s", f.s.APIURL(), f.build.ID, query), "JOB-TOKEN", tokRunning)
			wantStatus(t, resp, body, 200)
			if got := resp.Request.URL.Scheme + "://" + resp.Request.URL.Host; got != wantHost {
				t.Errorf("%q was served by %s, want %s", query, got, wantHost)
			}
		}
	})
	t.Run("object store faults hit the redirected download", func(t *testing.T) {
		store.CutBodyAfter(gitlabtest.RouteObject, 10)
		if _, _, err := fetch(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning); err == nil {
			t.Error("download through a cut object store succeeded")
		}
	})
}

func TestObjectStoreReportsLeakedTokens(t *testing.T) {
	cases := []struct {
		name   string
		client func(*testing.T) *http.Client
		header []string
		query  string // added to the request sent straight to the store
		want   string
	}{
		{"Go's redirect forwards JOB-TOKEN", newClient, []string{"JOB-TOKEN", tokRunning}, "", "header JOB-TOKEN"},
		{"Go's redirect forwards PRIVATE-TOKEN", newClient, []string{"PRIVATE-TOKEN", patProject}, "", "header PRIVATE-TOKEN"},
		{"Authorization survives a redirect to another port of the same IP", newClient,
			[]string{"Authorization", "Bearer " + tokRunning}, "", "header Authorization"},
		{"a token in any other header is caught", safeClient,
			[]string{"JOB-TOKEN", tokRunning, "X-Debug", "token=" + tokRunning}, "", "a GitLab token in header X-Debug"},
		{"a token in the query is caught", safeClient, nil, "&private_token=" + patAdmin, "a GitLab token in the query"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			store := gitlabtest.NewObjectStore(t, gitlabtest.ExpectViolations())
			f.s.RedirectTo(store)
			c := tc.client(t)
			if tc.query != "" {
				resp, _ := get(t, c, store.Put("x.zip", f.zip)+tc.query)
				wantStatus(t, resp, nil, 200)
			} else {
				resp, body := get(t, c, archiveURL(f, f.build.ID), tc.header...)
				wantStatus(t, resp, body, 200)
			}
			v := store.Violations()
			if !strings.Contains(strings.Join(v, "\n"), tc.want) {
				t.Errorf("violations %q, want one about %s", v, tc.want)
			}
			for _, msg := range v {
				for _, tok := range []string{tokRunning, patProject, patAdmin} {
					if strings.Contains(msg, tok) {
						t.Errorf("violation %q prints the token", msg)
					}
				}
			}
		})
	}
}

// recordingTB captures Errorf so a test can check that the object store
// fails the test it belongs to.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestObjectStoreFailsItsTestOnALeak(t *testing.T) {
	rec := &recordingTB{TB: t}
	f := newFixture(t)
	f.s.RedirectTo(gitlabtest.NewObjectStore(rec))
	resp, body := get(t, newClient(t), archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) == 0 || !strings.Contains(rec.errs[0], "JOB-TOKEN") {
		t.Errorf("Errorf calls %q, want one naming JOB-TOKEN", rec.errs)
	}
}

func TestObjectStoreChecksTheSignature(t *testing.T) {
	store := gitlabtest.NewObjectStore(t)
	signed := store.Put("reports/data.bin", []byte("payload"))
	c := newClient(t)
	resp, body := get(t, c, signed)
	wantStatus(t, resp, body, 200)
	u, _ := url.Parse(signed)
	u.RawQuery = ""
	resp, body = get(t, c, u.String())
	wantStatus(t, resp, body, 403)
	if !strings.Contains(string(body), "SignatureDoesNotMatch") {
		t.Errorf("body %s", body)
	}
	resp, body = get(t, c, strings.Replace(signed, "data.bin", "other.bin", 1))
	wantStatus(t, resp, body, 403)
}

func TestThrottledStoreDeliversEveryByte(t *testing.T) {
	store := gitlabtest.NewObjectStore(t)
	store.ThrottleBytesPerSec(gitlabtest.RouteObject, 4<<20)
	data := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
	signed := store.Put("big.bin", data)
	c := newClient(t)
	resp, body := get(t, c, signed)
	wantStatus(t, resp, body, 200)
	if !bytes.Equal(body, data) {
		t.Errorf("got %d bytes, want %d intact", len(body), len(data))
	}
	resp, body = get(t, c, signed, "Range", "bytes=1000-1999")
	wantStatus(t, resp, body, 206)
	if !bytes.Equal(body, data[1000:2000]) {
		t.Error("ranged throttled body differs")
	}
}

// BenchmarkThrottledStore shows why ranged parallel downloads exist: with a
// per-stream cap, four ranges move the same bytes about four times faster.
func BenchmarkThrottledStore(b *testing.B) {
	const size, rate = 512 << 10, 4 << 20
	data := bytes.Repeat([]byte{'x'}, size)
	for _, streams := range []int{1, 4} {
		b.Run(fmt.Sprintf("%d streams", streams), func(b *testing.B) {
			store := gitlabtest.NewObjectStore(b)
			store.ThrottleBytesPerSec(gitlabtest.RouteObject, rate)
			signed := store.Put("bench.bin", data)
			b.SetBytes(size)
			for b.Loop() {
				fetchRanges(b, signed, size, streams)
			}
		})
	}
}

func fetchRanges(b *testing.B, url string, size, streams int) {
	var wg sync.WaitGroup
	part := size / streams
	for i := range streams {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", i*part, (i+1)*part-1))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			defer resp.Body.Close()
			if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != int64(part) {
				b.Errorf("range %d: %d bytes, %v", i, n, err)
			}
		})
	}
	wg.Wait()
}
