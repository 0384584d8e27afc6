package serve

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCheckPartialRefusesAContentRangeOtherThanAsked: what an upstream
// says in a 206's Content-Range is judged against the caller's Range
// before any byte is passed on (a real loopback server sends each answer).
func TestCheckPartialRefusesAContentRangeOtherThanAsked(t *testing.T) {
	for _, tc := range []struct {
		name, rangeHeader, contentRange string
		status                          int
		ok                              bool
	}{
		{"the range asked for passes", "bytes=10-19", "bytes 10-19/100", http.StatusPartialContent, true},
		{"a 200 without Content-Range passes", "bytes=10-19", "", http.StatusOK, true},
		{"a 206 from another byte is refused", "bytes=10-19", "bytes 0-9/100", http.StatusPartialContent, false},
		{"a 206 past the end asked for is refused", "bytes=10-19", "bytes 10-99/100", http.StatusPartialContent, false},
		{"a negative Content-Range is refused", "bytes=10-19", "bytes -10-19/100", http.StatusPartialContent, false},
		{"an inverted Content-Range is refused", "bytes=10-19", "bytes 19-10/100", http.StatusPartialContent, false},
		{"a Content-Range past its total is refused", "bytes=10-19", "bytes 10-19/15", http.StatusPartialContent, false},
		{"another unit is refused", "bytes=10-19", "items 10-19/100", http.StatusPartialContent, false},
		{"a 206 to a list of ranges is only parsed", "bytes=0-1,10-19", "bytes 10-19/100", http.StatusPartialContent, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.contentRange != "" {
					w.Header().Set("Content-Range", tc.contentRange)
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Range", tc.rangeHeader)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := checkPartial(resp, tc.rangeHeader); (err == nil) != tc.ok {
				t.Fatalf("checkPartial = %v; want ok %v", err, tc.ok)
			}
		})
	}
}
