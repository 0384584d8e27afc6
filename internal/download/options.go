// Package download is what `pipeline-artifacts download` and `list` do
// between the command line and the transfer engine: which job's artifacts
// a name, a job id or a URL denotes (target.go); which of GitLab's two
// download routes the credential may use, and the one fall-back from the
// project's artifacts API to the runner route where GitLab ignores a job
// token for its tier (route.go); and reading one file of an archive by HTTP
// Range where no single-file route takes the job token (onefile.go).
package download

import (
	"errors"
	"fmt"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Options say which artifacts to fetch, with which credential, and where
// to put them.
type Options struct {
	// Options are the engine's settings (Dest or Output, Limits, Wait,
	// Timeout, Parallel…). URL, Job, ExpectedSize and Status are set here.
	artifacts.Options

	JobName     string // looked up in the manifest, ARTIFACT_URL_*, the service
	JobID       int64  // --job-id
	ArtifactURL string // --url, as given
	Path        string // one file inside the archive
	Pipeline    int64  // --pipeline: look JobName up there
	SHA         string // --sha: the newest pipeline for this commit
	Project     string // --project
	Server      string // --server: a pipeline-artifacts serve to resolve through
	Optional    bool   // a missing archive is a warning, not an error

	PrivateToken string // sent as PRIVATE-TOKEN; wins over JobToken
	JobToken     string // CI_JOB_TOKEN
	CAPEM        []byte
	// Getenv reads the job's CI_* variables; nil reads none.
	Getenv func(string) string
}

// UsageError is a mistake in the command line or the environment.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

func (o *Options) env(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return strings.TrimSpace(o.Getenv(k))
}

// credential is the private token, else the job token, else none.
func (o *Options) credential() gitlab.Credential {
	switch {
	case o.PrivateToken != "":
		return gitlab.Credential{Kind: gitlab.PrivateToken, Token: o.PrivateToken}
	case o.JobToken != "":
		return gitlab.Credential{Kind: gitlab.JobToken, Token: o.JobToken}
	}
	return gitlab.Credential{}
}

// project is --project, else this job's project.
func (o *Options) project() string {
	if o.Project != "" {
		return o.Project
	}
	return o.env("CI_PROJECT_ID")
}

func (o *Options) remote() bool { return o.Pipeline != 0 || o.SHA != "" }

// validate checks what no request can fix.
func (o *Options) validate(listing bool) error {
	var errs []error
	n := 0
	for _, set := range []bool{o.JobName != "", o.JobID != 0, o.ArtifactURL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, errors.New("name the artifacts with exactly one of JOB_NAME, --job-id and --url"))
	}
	if o.Pipeline != 0 && o.SHA != "" {
		errs = append(errs, errors.New("--pipeline and --sha exclude each other"))
	}
	if o.remote() && o.JobName == "" {
		errs = append(errs, errors.New("--pipeline and --sha look up a JOB_NAME: name the job"))
	}
	if o.Project != "" && o.JobName != "" && !o.remote() {
		errs = append(errs, errors.New("with --project, name the pipeline (--pipeline or --sha) or use --job-id"))
	}
	if !listing {
		errs = append(errs, o.validateOutput())
	}
	if err := errors.Join(errs...); err != nil {
		return &UsageError{Err: err}
	}
	return nil
}

func (o *Options) validateOutput() error {
	var errs []error
	if o.SHA256 != "" && !artifacts.IsSHA256Hex(o.SHA256) {
		errs = append(errs, errors.New("--sha256 wants 64 hexadecimal digits"))
	}
	if o.Path != "" {
		errs = append(errs, checkArchivePath(o.Path))
	}
	if o.Parallel < 1 {
		errs = append(errs, errors.New("--parallel must be at least 1"))
	}
	return errors.Join(errs...)
}

func checkArchivePath(p string) error {
	if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "\\") {
		return fmt.Errorf("--path %q must be a relative file path inside the archive", p)
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("--path %q must not contain empty, . or .. segments", p)
		}
	}
	return nil
}
