package component_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTheComponentInAMinimalContainer runs the expanded job in a container of
// a minimal image — busybox and the C library, no pipeline-artifacts, no curl
// — the way a docker executor runs an alpine-like job image.
func TestTheComponentInAMinimalContainer(t *testing.T) {
	needTools(t, "gitlab-ci-local", "git", "node", "busybox", "ldd")
	if testing.Short() {
		t.Skip("docker test")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("docker is not available (install docker.io and start dockerd to run this test): ", err)
	}
	w := newWorld(t)
	image := busyboxImage(t)
	for _, tc := range []struct {
		name     string
		inputs   map[string]any
		code     int
		siblings bool
		stderr   string
	}{
		{name: "busybox wget fetches, verifies and exports the siblings", inputs: map[string]any{}, siblings: true},
		{name: "a tampered mirror fails the job", inputs: map[string]any{"binaries_url": w.mirror("tampered")}, code: 1, stderr: "SHA-256 mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, script := expanded(t, w.repo(t, tc.inputs, w.digest))
			project := t.TempDir()
			if err := os.Chmod(project, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(project, "job.sh"), []byte(strings.Join(append(before, script...), "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"run", "--rm", "--network", "host", "--user", "65532:65532", "-v", project + ":/builds/app", "-w", "/builds/app"}
			for k, v := range w.jobEnv("/builds/app") {
				args = append(args, "-e", k+"="+v)
			}
			args = append(args, image, "/bin/sh", "-e", "/builds/app/job.sh")
			cmd := exec.Command("docker", args...)
			var o, e strings.Builder
			cmd.Stdout, cmd.Stderr = &o, &e
			code := 0
			if err := cmd.Run(); err != nil {
				ee, ok := err.(*exec.ExitError)
				if !ok {
					t.Fatal(err)
				}
				code = ee.ExitCode()
			}
			if code != tc.code || strings.Contains(o.String(), "ARTIFACT_URL_BUILD=http") != tc.siblings {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, o.String(), e.String())
			}
			if tc.stderr != "" && !strings.Contains(e.String(), tc.stderr) {
				t.Errorf("the job log lacks %q:\n%s", tc.stderr, e.String())
			}
		})
	}
}

// busyboxImage builds FROM scratch: busybox, its shared libraries and
// /bin/sh and friends as links to it. No registry is needed.
func busyboxImage(t *testing.T) string {
	t.Helper()
	ctx := t.TempDir()
	root := filepath.Join(ctx, "rootfs")
	bb, _ := exec.LookPath("busybox")
	files := []string{bb}
	out, err := exec.Command("ldd", bb).Output()
	if err != nil {
		t.Skip("busybox is static or ldd failed: ", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				files = append(files, f)
			}
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "uname", "sha256sum", "mkdir", "rm", "chmod", "mv", "wget", "timeout", "echo"} {
		if err := os.Symlink(bb, filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	df := "FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	image := fmt.Sprintf("pa-component-test:%d", os.Getpid())
	if out, err := exec.Command("docker", "build", "-q", "-t", image, ctx).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", image).Run() })
	return image
}
