package hostile

import (
	"io"
	"net/http"
	"testing"
)

func get(t *testing.T, url string, header ...string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestTheServerLiesOnlyAsTold(t *testing.T) {
	body := []byte("0123456789")
	t.Run("an honest server honours Range and If-Range", func(t *testing.T) {
		s := &Server{Body: body}
		url := s.Start(t)
		resp, b, err := get(t, url, "Range", "bytes=4-", "If-Range", `"len-10"`)
		if err != nil || resp.StatusCode != 206 || string(b) != "456789" || resp.Header.Get("Content-Range") != "bytes 4-9/10" {
			t.Fatalf("%d %q %q %v", resp.StatusCode, b, resp.Header.Get("Content-Range"), err)
		}
		resp, b, _ = get(t, url, "Range", "bytes=4-", "If-Range", `"other"`)
		if resp.StatusCode != 200 || string(b) != string(body) {
			t.Fatalf("a stale If-Range got %d %q", resp.StatusCode, b)
		}
	})
	t.Run("a cut body ends early with an error", func(t *testing.T) {
		s := &Server{Body: body, CutAt: Same(int64(3))}
		_, b, err := get(t, s.Start(t))
		if err == nil || string(b) != "012" {
			t.Fatalf("read %q, %v; want 3 bytes and an error", b, err)
		}
	})
	t.Run("totals and validators lie per request", func(t *testing.T) {
		s := &Server{Body: body, ETag: Changing(), Total: Same(int64(99)), IgnoreIfRange: true}
		url := s.Start(t)
		resp, _, _ := get(t, url, "Range", "bytes=2-", "If-Range", `"version-7"`)
		if resp.StatusCode != 206 || resp.Header.Get("ETag") != `"version-0"` || resp.Header.Get("Content-Range") != "bytes 2-9/99" {
			t.Fatalf("%d ETag %q Content-Range %q", resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Content-Range"))
		}
		if n := len(s.Requests()); n != 1 {
			t.Fatalf("%d requests recorded", n)
		}
	})
}
