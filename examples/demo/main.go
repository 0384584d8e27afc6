// Command demo plays the seed story of examples/ through the real
// pipeline-artifacts binary, against the in-repo fake GitLab on loopback:
//
//	go run ./examples/demo
//
// It builds the binary, registers it as a custom executor from
// examples/config.toml, and runs the jobs of examples/.gitlab-ci.yml the way
// gitlab-runner would: `build` makes a site and uploads it, `deploy` runs
// examples/deploy.sh, whose "SSH" (a clean environment on this machine)
// runs remote-deploy.sh, which downloads build's artifact by
// $ARTIFACT_URL_BUILD with the job token.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, "."); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

const (
	projectID  = 42
	pipelineID = 100
)

// story is one run of the demo in a scratch directory.
type story struct {
	root, dir, binary string
	gl                *gitlabtest.Server
	jobs              map[string]runnersim.JobDef
	driver            runnersim.Custom
	out               io.Writer
}

// run plays the story; start is any directory inside the repository.
func run(ctx context.Context, out io.Writer, start string) error {
	root, err := repoRoot(start)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "pipeline-artifacts-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s := &story{root: root, dir: dir, binary: filepath.Join(dir, "bin", "pipeline-artifacts"), out: out}
	fmt.Fprintln(out, "==> building pipeline-artifacts")
	if err := s.setup(ctx); err != nil {
		return err
	}
	defer s.gl.Close()
	return s.play(ctx)
}

func (s *story) setup(ctx context.Context) error {
	build := exec.CommandContext(ctx, "go", "build", "-o", s.binary, "./cmd/pipeline-artifacts")
	build.Dir, build.Stderr = s.root, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	var err error
	if s.jobs, err = runnersim.LoadPipeline(filepath.Join(s.root, "examples", ".gitlab-ci.yml")); err != nil {
		return err
	}
	if s.driver, err = runnersim.LoadDriver(filepath.Join(s.root, "examples", "config.toml"), s.binary, nil); err != nil {
		return err
	}
	if err := s.fakeRunnerHelper(); err != nil {
		return err
	}
	return s.startGitLab()
}

// startGitLab serves the fake GitLab on a loopback port for the binary.
func (s *story) startGitLab() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.gl = gitlabtest.New()
	s.gl.URL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: s.gl.Handler()}
	go func() { _ = srv.Serve(ln) }()
	s.gl.AddProject(projectID)
	s.gl.AddPipeline(projectID, pipelineID)
	fmt.Fprintf(s.out, "==> fake GitLab at %s, pipeline %d\n", s.gl.APIURL(), pipelineID)
	return nil
}

func (s *story) play(ctx context.Context) error {
	build := s.gl.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "build", Stage: "build", Token: "demo-token-build"})
	deploy := s.gl.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "deploy", Stage: "deploy", Token: "demo-token-deploy", Status: "pending"})
	buildDir := filepath.Join(s.dir, "builds", "build")
	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		return err
	}
	if err := s.runJob(ctx, "build", build, buildDir, nil); err != nil {
		return err
	}
	if err := s.upload(build, filepath.Join(buildDir, "public")); err != nil {
		return err
	}
	s.gl.SetStatus(deploy.ID, "running")
	www := filepath.Join(s.dir, "www")
	extra := map[string]string{"DEPLOY_SSH": s.fakeSSH(), "WWW_DIR": www}
	if err := s.runJob(ctx, "deploy", deploy, s.root, extra); err != nil {
		return err
	}
	page, err := os.ReadFile(filepath.Join(www, "public", "index.html"))
	if err != nil {
		return fmt.Errorf("the web server has no site: %w", err)
	}
	fmt.Fprintf(s.out, "==> the web server now serves: %s", page)
	return nil
}

// runJob runs one job of .gitlab-ci.yml through the custom executor and
// prints what it saw.
func (s *story) runJob(ctx context.Context, name string, fj *gitlabtest.FakeJob, projectDir string, extra map[string]string) error {
	def := s.jobs[name]
	vars := map[string]string{"CI_PROJECT_DIR": projectDir, "PATH": filepath.Dir(s.binary) + ":" + os.Getenv("PATH")}
	for k, v := range def.Variables {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	spec := runnersim.Spec{APIURL: s.gl.APIURL(), ProjectID: projectID, PipelineID: pipelineID, JobID: fj.ID,
		Name: name, Stage: def.Stage, Token: fj.Token, Variables: vars}
	job := spec.Job()
	job.Script = def.ScriptText()
	job.Environ = append(os.Environ(), "PIPELINE_ARTIFACTS_CACHE_TTL=0", "PATH="+filepath.Dir(s.binary)+":"+os.Getenv("PATH"))
	fmt.Fprintf(s.out, "\n==> job %q (id %d), stage %s\n", name, fj.ID, def.Stage)
	res, err := s.driver.RunJob(ctx, job)
	if err != nil {
		return err
	}
	fmt.Fprint(s.out, indent(asJobLog(res.Log())))
	if res.Status != "success" {
		return fmt.Errorf("job %s: %s (exit %d)", name, res.Status, res.ExitCode)
	}
	s.gl.SetStatus(fj.ID, "success")
	return nil
}

// upload stands in for the runner's artifacts-uploader.
func (s *story) upload(fj *gitlabtest.FakeJob, dir string) error {
	var entries []gitlabtest.ArchiveEntry
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(filepath.Dir(dir), p)
		entries = append(entries, gitlabtest.ArchiveEntry{Name: filepath.ToSlash(rel), Body: string(b)})
		return err
	})
	if err != nil {
		return err
	}
	zip, err := gitlabtest.BuildZip(entries...)
	if err != nil {
		return err
	}
	s.gl.SetArtifact(fj.ID, zip)
	fmt.Fprintf(s.out, "    (runner) uploaded artifacts.zip of job %d: %d bytes\n", fj.ID, len(zip))
	return nil
}

// fakeRunnerHelper puts a stand-in gitlab-runner on the jobs' PATH: the
// runner's generated scripts call it to upload artifacts, which this demo
// does itself (upload), and prepare checks that it is there.
func (s *story) fakeRunnerHelper() error {
	p := filepath.Join(filepath.Dir(s.binary), "gitlab-runner")
	return os.WriteFile(p, []byte("#!/usr/bin/env bash\necho 'gitlab-runner (demo stand-in)'\n"), 0o755)
}

// fakeSSH writes a stand-in for `ssh HOST CMD...`: it runs CMD on this
// machine in a clean environment, as a remote login shell would start, so
// the remote script sees only what deploy.sh sent it.
func (s *story) fakeSSH() string {
	p := filepath.Join(s.dir, "bin", "ssh")
	script := "#!/usr/bin/env bash\nshift\nexec env -i PATH=" + shellQuote(filepath.Dir(s.binary)+":/usr/local/bin:/usr/bin:/bin") + " HOME=\"$HOME\" \"$@\"\n"
	_ = os.WriteFile(p, []byte(script), 0o755)
	return p
}

// sectionMarker matches GitLab's collapsible-section markers, which a job
// log page renders as a foldable header; a terminal would show them raw.
var sectionMarker = regexp.MustCompile("\x1b\\[0Ksection_(start|end):[0-9]+:[^\r]*\r\x1b\\[0K\n?")

// asJobLog renders the log as GitLab's job page would, minus the folding: a
// section start becomes "▸ ", a section end disappears.
func asJobLog(log string) string {
	return sectionMarker.ReplaceAllStringFunc(log, func(m string) string {
		if strings.Contains(m, "section_start") {
			return "▸ "
		}
		return ""
	})
}

func shellQuote(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }

func indent(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString("    " + line)
		}
	}
	return b.String()
}

func repoRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the demo from inside the pipeline-artifacts repository")
		}
		dir = parent
	}
}
