package serve_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/serve"
)

// A service (or whatever answers at its address) that sends an endless
// answer must not make every job's env hook read it into memory.
func TestFetchEnvReadsABoundedAnswer(t *testing.T) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ARTIFACT_URL_A":"`))
		chunk := []byte(strings.Repeat("x", 1<<20))
		for sent.Load() < 4<<30 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			sent.Add(int64(len(chunk)))
		}
	}))
	t.Cleanup(srv.Close)
	_, err := serve.FetchEnv(t.Context(), serve.Client{Server: srv.URL, JobToken: "glcbt-bounded"})
	if err == nil {
		t.Fatal("an endless answer was accepted")
	}
	if n := sent.Load(); n > 1<<30 {
		t.Errorf("the client read %d MiB of an endless answer", n>>20)
	}
}
