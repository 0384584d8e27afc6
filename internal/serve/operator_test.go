package serve_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/serve"
)

func TestRateLimitRefusesATokenPastItsBurst(t *testing.T) {
	s := newSeed(t)
	svc := startService(t, s.gl.URL, "--rate-limit", "0.001", "--rate-burst", "2")
	want := []int{200, 200, 429}
	for i, w := range want {
		if code, body := get(t, svc.URL+"/v1/env", deployToken); code != w {
			t.Errorf("call %d: %d %s, want %d", i+1, code, body, w)
		}
	}
	if code, _ := get(t, svc.URL+"/v1/env", s.childToken); code != 200 {
		t.Errorf("another job's token is limited too: %d", code)
	}
}

func TestTLSServiceAnswersTheClientThatTrustsItsCA(t *testing.T) {
	s := newSeed(t)
	certFile, keyFile, caPEM := selfSigned(t)
	svc := startService(t, s.gl.URL, "--tls-cert", certFile, "--tls-key", keyFile)
	vars, err := serve.FetchEnv(t.Context(), serve.Client{Server: svc.URL, JobToken: deployToken, CAPEM: caPEM})
	if err != nil || vars["ARTIFACT_URL_BUILD"] == "" {
		t.Fatalf("FetchEnv over TLS: %v %v", err, vars)
	}
	if _, err := serve.FetchEnv(t.Context(), serve.Client{Server: svc.URL, JobToken: deployToken}); err == nil {
		t.Error("a client that does not trust the certificate got an answer")
	}
	resp, err := http.Get(svc.URL[:len("http")] + svc.URL[len("https"):] + "/healthz")
	if err == nil && resp.StatusCode == http.StatusOK {
		t.Error("plain HTTP answered on the TLS port")
	}
	if resp != nil {
		resp.Body.Close()
	}
}

func TestOpenArchiveStreamsTheSeedEndpoint(t *testing.T) {
	s := newSeed(t)
	svc := startService(t, s.gl.URL)
	c := serve.Client{Server: svc.URL, JobToken: deployToken}
	resp, err := serve.OpenArchive(t.Context(), c, "42", pipelineID, "build", "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != int64(len(s.zip)) {
		t.Errorf("Content-Length %d, want %d", resp.ContentLength, len(s.zip))
	}
	if _, err := serve.OpenArchive(t.Context(), c, "42", 9999, "build", ""); err == nil {
		t.Error("a pipeline outside the family opened")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and returns its files and PEM.
func selfSigned(t *testing.T) (certFile, keyFile string, certPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pipeline-artifacts test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, certPEM
}

func TestSIGTERMLetsAnArchiveInFlightFinish(t *testing.T) {
	s := newSeed(t)
	s.gl.ThrottleBytesPerSec(gitlabtest.RouteRunnerArtifacts, 4*len(s.zip)/5)
	svc := startService(t, s.gl.URL)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts?job=build", nil)
	req.Header.Set("JOB-TOKEN", deployToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := svc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, s.zip) {
		t.Errorf("archive after SIGTERM: %v, %d of %d bytes", err, len(body), len(s.zip))
	}
	if err := svc.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, svc.Log())
	}
}

// TestSIGTERMCutsWhatOutlivesTheShutdownTimeout: an archive still streaming
// after --shutdown-timeout is cut, and the service exits 0 saying so.
func TestSIGTERMCutsWhatOutlivesTheShutdownTimeout(t *testing.T) {
	s := newSeed(t)
	noise := make([]byte, 1<<20)
	for i := range noise {
		noise[i] = byte(mrand.N(256))
	}
	big := gitlabtest.MakeZip(t, map[string]string{"big.bin": string(noise)})
	s.gl.AddJob(42, 7001, gitlabtest.JobSpec{Name: "big", Artifact: big})
	s.gl.ThrottleBytesPerSec(gitlabtest.RouteRunnerArtifacts, len(big)/20) // the archive would take 20s
	svc := startService(t, s.gl.URL, "--shutdown-timeout", "200ms")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts?job=big", nil)
	req.Header.Set("JOB-TOKEN", deployToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := svc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("the archive ended cleanly although the shutdown cut it")
	}
	if err := svc.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM and a cut stream: %v\n%s", err, svc.Log())
	}
	if !strings.Contains(svc.Log(), "closing the connections still open") {
		t.Errorf("the log does not say the stream was cut:\n%s", svc.Log())
	}
}
