package artifacts

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// rawServer answers every request on a loopback port with head and then
// body, and closes the connection: an HTTP/1.0 server (or an HTTP/1.1 one
// with Connection: close) that announces no length, so that only the close
// ends the body.
func rawServer(t *testing.T, head string, body []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				fmt.Fprint(conn, head)
				conn.Write(body)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestABodyOnlyTheConnectionsCloseEndsIsNotTakenForComplete(t *testing.T) {
	data := randomBytes(100_000)
	tests := []struct {
		name, head string
		expected   int64
		sha        string
		wantErr    bool
	}{
		{"HTTP/1.0 without a length", "HTTP/1.0 200 OK\r\nContent-Type: application/zip\r\n\r\n", 0, "", true},
		{"HTTP/1.1 with Connection: close and no length", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 0, "", true},
		{"a length the caller knows vouches for it", "HTTP/1.0 200 OK\r\n\r\n", int64(len(data)), "", false},
		{"a digest the caller knows vouches for it", "HTTP/1.0 200 OK\r\n\r\n", 0, sha256Hex(data), false},
		{"a Content-Length vouches for it", fmt.Sprintf("HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n", len(data)), 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := rawServer(t, tt.head, data)
			c := newTestClient(t, base, gitlab.Credential{Kind: gitlab.JobToken, Token: consumerTok})
			dir := t.TempDir()
			_, err := Download(t.Context(), c, Options{URL: base + "/artifacts", Job: "job 1", Output: filepath.Join(dir, "out.zip"),
				ExpectedSize: tt.expected, SHA256: tt.sha, StallTimeout: time.Minute, Timeout: 20 * time.Second})
			switch {
			case tt.wantErr && err == nil:
				t.Fatal("a body whose end only the connection's close said was accepted")
			case tt.wantErr:
				var ie *IntegrityError
				if !errors.As(err, &ie) {
					t.Errorf("err = %v, want an *IntegrityError", err)
				}
				mustBeEmpty(t, dir)
			case err != nil:
				t.Fatal(err)
			default:
				mustHold(t, dir, data)
			}
		})
	}
}

// We ask for identity; a server that encodes the archive anyway would have
// its encoded bytes saved as the archive.
func TestAnArchiveSentWithAContentEncodingIsRefused(t *testing.T) {
	data := randomBytes(10_000)
	for _, ce := range []string{"gzip", "br", "x-anything"} {
		t.Run(ce, func(t *testing.T) {
			base := rawServer(t, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", ce, len(data)), data)
			c := newTestClient(t, base, gitlab.Credential{Kind: gitlab.JobToken, Token: consumerTok})
			dir := t.TempDir()
			_, err := Download(t.Context(), c, Options{URL: base + "/artifacts", Job: "job 1", Output: filepath.Join(dir, "out.zip"),
				StallTimeout: time.Minute, Timeout: 20 * time.Second})
			if err == nil || !strings.Contains(err.Error(), "Content-Encoding") {
				t.Fatalf("err = %v, want the encoding refused", err)
			}
			mustBeEmpty(t, dir)
		})
	}
}

func TestARefusedRedirectIsOneAttemptAndSaysWhy(t *testing.T) {
	base := rawServer(t, "HTTP/1.1 302 Found\r\nLocation: ftp://files.example.com/a.zip\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", nil)
	c := newTestClient(t, base, gitlab.Credential{Kind: gitlab.JobToken, Token: consumerTok})
	dir := t.TempDir()
	_, err := Download(t.Context(), c, Options{URL: base + "/artifacts", Job: "job 1", Output: filepath.Join(dir, "out.zip"),
		StallTimeout: time.Minute, Timeout: 20 * time.Second})
	if err == nil || strings.Contains(err.Error(), "no progress") || !strings.Contains(err.Error(), `refused a redirect to a "ftp" URL`) {
		t.Fatalf("err = %v, want the refused redirect named, and nothing about progress", err)
	}
	mustBeEmpty(t, dir)
}

// A resume answered with 200 (not 206) whose body is only the rest, under
// the same validator: the bytes of the tail must not be taken for the
// whole archive.
func TestAResumeAnsweredWith200AndOnlyTheRestIsNotTheArchive(t *testing.T) {
	data := randomBytes(100_000)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("ETag", `"v1"`)
		h.Set("Accept-Ranges", "bytes")
		body := data
		if off, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
			start, _ := strconv.Atoi(strings.TrimSuffix(off, "-"))
			body = data[start:]
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if n.Add(1) == 1 {
			w.Write(body[:40_000]) // cut: the client resumes
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, gitlab.Credential{Kind: gitlab.JobToken, Token: consumerTok})
	dir := t.TempDir()
	_, err := Download(t.Context(), c, Options{URL: srv.URL + "/artifacts", Job: "job 1", Output: filepath.Join(dir, "out.zip"),
		StallTimeout: time.Minute, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err) // asked again without Range, the server sends the whole archive
	}
	mustHold(t, dir, data)
}

func TestAResumeAnsweredWith200AndOnlyTheRestWithoutContentRangeIsNotTheArchive(t *testing.T) {
	data := randomBytes(100_000)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("ETag", `"v1"`)
		h.Set("Accept-Ranges", "bytes")
		body := data
		if off, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
			start, _ := strconv.Atoi(strings.TrimSuffix(off, "-"))
			body = data[start:]
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if n.Add(1) == 1 {
			w.Write(body[:40_000])
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, gitlab.Credential{Kind: gitlab.JobToken, Token: consumerTok})
	dir := t.TempDir()
	_, err := Download(t.Context(), c, Options{URL: srv.URL + "/artifacts", Job: "job 1", Output: filepath.Join(dir, "out.zip"),
		StallTimeout: time.Minute, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mustHold(t, dir, data)
}
