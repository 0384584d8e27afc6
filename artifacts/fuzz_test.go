package artifacts

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzResumeResponse feeds one response, with whatever status, ETag,
// Last-Modified, Content-Length and Content-Range a server may send, to a
// transfer that has the first bytes of a known archive and checks the
// resume rules: a response is continued only at the offset asked for and
// only when it is the same version (validator and complete length) as the
// first; a size past the cap is never accepted; nothing panics.
func FuzzResumeResponse(f *testing.F) {
	f.Add(206, `"v1"`, "", int64(-1), "bytes 100-999/1000")
	f.Add(206, `"v2"`, "", int64(-1), "bytes 100-999/1000")
	f.Add(206, `"v1"`, "", int64(-1), "bytes 100-999/2000")
	f.Add(206, "", "Mon, 02 Jan 2006 15:04:05 GMT", int64(-1), "bytes 100-999/1000")
	f.Add(200, `"v1"`, "", int64(1000), "")
	f.Add(200, `"v1"`, "", int64(1<<40), "")
	f.Fuzz(func(t *testing.T, status int, etag, lastMod string, length int64, contentRange string) {
		const off, size, limit = 100, 1000, 1 << 20
		o := &Options{URL: "https://gitlab.example/api/v4/x", MaxSize: limit, Output: "x"}
		tr := &transfer{o: o, size: size, validator: `"v1"`, ranges: true, off: off, streams: 1}
		h := http.Header{}
		for k, v := range map[string]string{"ETag": etag, "Last-Modified": lastMod, "Content-Range": contentRange} {
			if v != "" {
				h.Set(k, v)
			}
		}
		u, _ := url.Parse(o.URL)
		resp := &http.Response{StatusCode: status, Header: h, ContentLength: length, Body: io.NopCloser(strings.NewReader("")),
			Request: &http.Request{URL: u}}
		start, err := tr.learn(resp)
		if err != nil {
			return
		}
		switch {
		case tr.size > limit:
			t.Fatalf("accepted a size of %d past the cap of %d", tr.size, limit)
		case status == http.StatusPartialContent && start != off:
			t.Fatalf("a 206 from byte %d accepted for a resume at %d", start, off)
		case status == http.StatusPartialContent && (validatorOf(h) != `"v1"` || tr.size != size):
			t.Fatalf("a 206 of another version accepted: validator %q, size %d", validatorOf(h), tr.size)
		case status == http.StatusOK && start != 0:
			t.Fatalf("a 200 placed at byte %d", start)
		case status != http.StatusOK && status != http.StatusPartialContent:
			t.Fatalf("status %d accepted", status)
		}
	})
}
