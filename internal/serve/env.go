package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// ParentPipelineParam names the pipeline that triggered the caller's
// (CI_UPSTREAM_PIPELINE_ID, GitLab 18.9+, or PIPELINE_ARTIFACTS_PARENT_PIPELINE_ID).
// The service believes it only if one of that pipeline's trigger jobs
// started the caller's pipeline.
const ParentPipelineParam = "parent_pipeline"

// env answers GET /v1/env: what `pipeline-artifacts env` prints for the
// caller. Only a complete answer is a 200; anything else is an error status
// with a short body, which `curl -f` does not print, so `eval` gets nothing.
// There is no manifest file in this mode: PIPELINE_ARTIFACTS_MANIFEST is not
// set (GET /v1/env?format=json has every variable).
func (s *Service) env(w http.ResponseWriter, r *http.Request, c caller) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = hooks.DefaultFormat
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ResolveTimeout)
	defer cancel()
	res := s.resolve(ctx, r, c)
	if res.APIErr != nil {
		s.cfg.Log.WithField("job_id", c.JobID).Warn(secret.Mask("siblings not listed: " + res.APIErr.Error()))
		writeMessage(w, http.StatusBadGateway, "502 siblings not listed: GitLab did not answer")
		return
	}
	var body bytes.Buffer
	body.WriteString(comments(format, res))
	if err := hooks.Render(&body, format, hooks.Variables(res.Siblings, "")); err != nil {
		writeMessage(w, http.StatusBadRequest, "400 "+err.Error())
		return
	}
	w.Header().Set("Content-Type", contentTypeOf(format))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body.Bytes())
}

func (s *Service) resolve(ctx context.Context, r *http.Request, c caller) *hooks.Resolution {
	l := lister{s: s, c: c}
	t := hooks.Target{APIURL: s.apiURL, ProjectID: c.ProjectID, PipelineID: c.PipelineID, JobID: c.JobID, Children: true}
	if p, err := strconv.ParseInt(r.URL.Query().Get(ParentPipelineParam), 10, 64); err == nil && p > 0 {
		if ok, _ := l.related(ctx, c.ProjectID, p); ok {
			t.ParentPipelineID = p
		}
	}
	return hooks.Resolve(ctx, t, nil, []hooks.Source{{Name: "pipeline-artifacts serve", Lister: l}}, nil)
}

// comments are the warnings of a partial answer as comment lines, for the
// formats whose readers skip them (sh and PowerShell both read # as a
// comment). A warning is one line: GitLab's messages must not start a command.
func comments(format string, res *hooks.Resolution) string {
	if format != "sh" && format != "powershell" {
		return ""
	}
	warnings := res.Manifest().Warnings
	var b strings.Builder
	for _, w := range warnings {
		w = strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r < 0x20 {
				return ' '
			}
			return r
		}, secret.Mask(w))
		b.WriteString("# pipeline-artifacts: " + w + "\n")
	}
	return b.String()
}

func contentTypeOf(format string) string {
	if format == "json" {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// manifest answers GET /v1/manifest: the resolution as the manifest file
// PIPELINE_ARTIFACTS_MANIFEST points to, for clients (env --server, the
// stage subcommands) that write that file on the job's side.
func (s *Service) manifest(w http.ResponseWriter, r *http.Request, c caller) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ResolveTimeout)
	defer cancel()
	res := s.resolve(ctx, r, c)
	if res.APIErr != nil {
		s.cfg.Log.WithField("job_id", c.JobID).Warn(secret.Mask("siblings not listed: " + res.APIErr.Error()))
		writeMessage(w, http.StatusBadGateway, "502 siblings not listed: GitLab did not answer")
		return
	}
	body, err := json.Marshal(res.Manifest())
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "500 encoding the manifest")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(body, '\n'))
}
