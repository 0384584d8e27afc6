package serve_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestStaticImageServesAndHooksOnAReadOnlyRoot builds the repository's
// FROM-scratch release image (the root Dockerfile, which examples/fleet
// deploys) and runs version, the service, the binary hook and download in it:
// non-root, read-only root filesystem, no HOME, no TMPDIR.
func TestStaticImageServesAndHooksOnAReadOnlyRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("docker test")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("docker is not available (install docker.io and start dockerd to run this test): ", err)
	}
	image := buildImage(t)
	if first, _, _ := strings.Cut(runContainer(t, image, nil, "version"), "\n"); !strings.Contains(first, testVersion) {
		t.Errorf("docker run IMAGE version: first line %q lacks %s", first, testVersion)
	}
	s := newSeed(t)
	gitlabURL := s.gl.URL
	port := freePort(t)
	name := fmt.Sprintf("pa-serve-test-%d", os.Getpid())
	svcURL := "http://127.0.0.1:" + port
	startContainer(t, name, image, "serve", "--listen", "127.0.0.1:"+port, "--gitlab-url", gitlabURL)

	out := runContainer(t, image, nil, "env", "--server", svcURL, "--format", "json")
	var vars map[string]string
	if err := json.Unmarshal([]byte(out), &vars); err != nil || vars["ARTIFACT_URL_BUILD"] == "" {
		t.Fatalf("env --server in the image: %v\n%s", err, out)
	}

	dest := t.TempDir()
	if err := os.Chmod(dest, 0o777); err != nil {
		t.Fatal(err)
	}
	seedURL := svcURL + "/api/v4/projects/42/pipelines/7001/artifacts?job=build"
	runContainer(t, image, []string{"-v", dest + ":/out", "-e", "CI_API_V4_URL=" + svcURL + "/api/v4"},
		"download", "--url", seedURL, "--dest", "/out", "--quiet")
	got, err := os.ReadFile(filepath.Join(dest, "public", "index.html"))
	if err != nil || string(got) != "<h1>hello</h1>" {
		t.Errorf("download through the service in the image: %v %q", err, got)
	}
}

// buildImage builds the root Dockerfile from a context laid out as make image
// leaves it: dist/pipeline-artifacts-linux-<arch> and dist/ca-certificates.crt.
func buildImage(t *testing.T) string {
	t.Helper()
	ctx := t.TempDir()
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	cas, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Skip("the host has no CA bundle to put into the image: ", err)
	}
	files := map[string][]byte{
		"Dockerfile": df,
		"dist/pipeline-artifacts-linux-" + runtime.GOARCH: bin,
		"dist/ca-certificates.crt":                        cas,
	}
	for name, data := range files {
		path := filepath.Join(ctx, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	image := "pipeline-artifacts:serve-test"
	build := exec.Command("docker", "build", "-q", "--build-arg", "VERSION="+testVersion,
		"--build-arg", "TARGETARCH="+runtime.GOARCH, "-t", image, ctx)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", image).Run() })
	return image
}

// hardened are the docker run options every container of the test gets.
var hardened = []string{"--rm", "--network", "host", "--read-only", "--user", "65532:65532", "--cap-drop", "ALL"}

func startContainer(t *testing.T, name, image string, args ...string) {
	t.Helper()
	cmd := exec.Command("docker", append(append(append([]string{"run", "--name", name}, hardened...), image), args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("docker", "stop", "-t", "10", name).Run()
		if err := cmd.Wait(); err != nil {
			t.Errorf("service container after docker stop: %v", err)
		}
	})
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"msg":"listening"`) {
				listening <- true
			}
		}
		close(listening)
	}()
	select {
	case ok := <-listening:
		if !ok {
			t.Fatal("the service container exited before listening")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the service container did not start")
	}
}

func runContainer(t *testing.T, image string, opts []string, args ...string) string {
	t.Helper()
	env := []string{"-e", "CI_JOB_TOKEN=" + deployToken, "-e", "CI_PROJECT_ID=42", "-e", "CI_PIPELINE_ID=7001", "-e", "CI_JOB_ID=1003"}
	all := append(append(append(append([]string{"run"}, hardened...), env...), opts...), image)
	cmd := exec.Command("docker", append(all, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker run %s: %v\n%s", args[0], err, stderr.String())
	}
	if strings.Contains(stderr.String(), deployToken) {
		t.Errorf("%s printed the job token", args[0])
	}
	return stdout.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
