package gitlabtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"
)

// epoch is the fake clock's start: timestamps are epoch + one second per
// fixture change, so the same fixture always renders the same JSON.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// firstJobID is the id of the first job created without an explicit ID.
const firstJobID = 1000

type state struct {
	projects  map[int64]*project
	pipelines map[int64]*pipeline // pipeline ids are instance-wide, as in GitLab
	jobs      map[int64]*job
	jobTokens map[string]*job
	private   map[string]*privateToken
	nextJobID int64
	tick      int64
	store     *ObjectStore

	packages     map[packageKey][]byte
	releaseLinks map[releaseKey]releaseLink
}

type project struct {
	id      int64
	lastIID int64
	public  bool
}

type pipeline struct {
	id, iid, projectID int64
	sha, ref, status   string
	source             string
	created            time.Time
	jobs               []*job // builds and bridges
	parentID           int64  // set by ChildOf until AddPipeline links it
	bridgeName         string
}

type job struct {
	id         int64
	pipeline   *pipeline
	name       string
	stage      string
	status     string
	token      string
	created    time.Time
	expireAt   *time.Time
	retried    bool
	bridge     bool
	downstream *pipeline
	archive    *blob
	access     string // artifacts:access: all, developer, maintainer, none
	reports    bool   // has artifacts:reports files only
}

// blob is an immutable artifacts archive; SetArtifact replaces it whole.
type blob struct {
	name    string
	data    []byte
	modTime time.Time
	etag    string
}

type privateToken struct {
	projects map[int64]bool // nil: every project
}

func newState() state {
	return state{
		projects:  map[int64]*project{},
		pipelines: map[int64]*pipeline{},
		jobs:      map[int64]*job{},
		jobTokens: map[string]*job{},
		private:   map[string]*privateToken{},
		nextJobID: firstJobID,

		packages:     map[packageKey][]byte{},
		releaseLinks: map[releaseKey]releaseLink{},
	}
}

func (st *state) now() time.Time {
	st.tick++
	return epoch.Add(time.Duration(st.tick) * time.Second)
}

// FakeJob names a job created by AddJob or Retry. Change the job through the
// Server (SetStatus, SetArtifact); the fields do not follow those changes.
type FakeJob struct {
	ID         int64
	ProjectID  int64
	PipelineID int64
	Name       string
	Token      string
}

// JobSpec describes a job for AddJob.
type JobSpec struct {
	// ID defaults to the next free id; ids start at 1000 and increase.
	ID    int64
	Name  string
	Stage string // default "test"
	// Status defaults to "success", or to "running" when Token is set: a job
	// token authenticates only while its job is running or pending.
	Status string
	// Artifact is the archive (zip or tar.gz bytes). Nil means no archive,
	// so no artifacts_file in the job JSON and 404 on download.
	Artifact []byte
	// ArtifactFilename defaults to artifacts.zip, or artifacts.tar.gz for gzip data.
	ArtifactFilename string
	// ArtifactsExpireAt in the past makes the single-file route 404 while
	// the archive routes still serve the archive, as GitLab does until its
	// cleanup worker deletes the file (lib/api/ci/job_artifacts.rb checks
	// available_artifacts? only for single files and trees).
	ArtifactsExpireAt *time.Time
	// Token is the job's CI_JOB_TOKEN; empty means none.
	Token string
	// ArtifactsAccess is the job's artifacts:access ("" means "all"). The
	// project's artifacts API answers 403 to a job token unless it is
	// "all", and to everybody with "none"; the runner route ignores it
	// (https://docs.gitlab.com/ci/yaml/#artifactsaccess).
	ArtifactsAccess string
	// ReportsOnly gives the job an artifacts:reports file (a JUnit report)
	// and no archive: the archive routes answer 404, as GitLab does for
	// reports not also listed in artifacts:paths
	// (https://docs.gitlab.com/api/job_artifacts/).
	ReportsOnly bool
}

// PipelineOption configures a pipeline for AddPipeline.
type PipelineOption func(*pipeline)

// WithRef sets the pipeline's ref (default "main").
func WithRef(ref string) PipelineOption { return func(p *pipeline) { p.ref = ref } }

// WithSHA sets the pipeline's commit (default: derived from the pipeline id).
func WithSHA(sha string) PipelineOption { return func(p *pipeline) { p.sha = sha } }

// WithPipelineStatus sets the pipeline's status (default "running").
func WithPipelineStatus(status string) PipelineOption {
	return func(p *pipeline) { p.status = status }
}

// WithSource sets the pipeline's source (default "push", or
// "parent_pipeline" for ChildOf).
func WithSource(source string) PipelineOption { return func(p *pipeline) { p.source = source } }

// ChildOf makes the pipeline a downstream of parentID: a bridge job named
// bridgeName is added to the parent with downstream_pipeline pointing here.
func ChildOf(parentID int64, bridgeName string) PipelineOption {
	return func(p *pipeline) { p.parentID, p.bridgeName = parentID, bridgeName }
}

// ProjectOption configures a project for AddProject.
type ProjectOption func(*project)

// Public makes a project public (default private): anonymous requests, and
// requests whose job token a route ignores, read its pipelines, jobs and
// artifacts.
func Public() ProjectOption { return func(p *project) { p.public = true } }

// AddProject registers a project, or applies opts to an existing one.
func (s *Server) AddProject(id int64, opts ...ProjectOption) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.addProject(id)
	for _, o := range opts {
		o(p)
	}
}

func (st *state) addProject(id int64) *project {
	if p := st.projects[id]; p != nil {
		return p
	}
	p := &project{id: id}
	st.projects[id] = p
	return p
}

// AddPipeline registers a pipeline, creating its project if needed.
func (s *Server) AddPipeline(projectID, pipelineID int64, opts ...PipelineOption) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.pipelines[pipelineID] != nil {
		panic(fmt.Sprintf("gitlabtest: pipeline %d already exists", pipelineID))
	}
	proj := s.st.addProject(projectID)
	proj.lastIID++
	sum := sha1.Sum(fmt.Appendf(nil, "pipeline %d", pipelineID))
	p := &pipeline{id: pipelineID, iid: proj.lastIID, projectID: projectID,
		sha: hex.EncodeToString(sum[:]), ref: "main", status: "running", created: s.st.now()}
	for _, o := range opts {
		o(p)
	}
	if p.parentID != 0 {
		s.st.linkChild(p)
	}
	if p.source == "" {
		p.source = "push"
	}
	s.st.pipelines[pipelineID] = p
}

// linkChild adds the bridge job that triggered child to its parent.
func (st *state) linkChild(child *pipeline) {
	parent := st.pipelines[child.parentID]
	if parent == nil {
		panic(fmt.Sprintf("gitlabtest: parent pipeline %d does not exist", child.parentID))
	}
	if child.source == "" {
		child.source = "pipeline" // multi-project downstream
		if parent.projectID == child.projectID {
			child.source = "parent_pipeline"
		}
	}
	b := st.newJob(parent, JobSpec{Name: child.bridgeName, Status: "success"})
	b.bridge, b.downstream = true, child
}

// AddJob adds a build job to a pipeline and returns its handle.
func (s *Server) AddJob(projectID, pipelineID int64, spec JobSpec) *FakeJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.pipelines[pipelineID]
	if p == nil || p.projectID != projectID {
		panic(fmt.Sprintf("gitlabtest: project %d has no pipeline %d", projectID, pipelineID))
	}
	if spec.Status == "" && spec.Token != "" {
		spec.Status = "running"
	}
	return s.st.newJob(p, spec).handle()
}

func (st *state) newJob(p *pipeline, spec JobSpec) *job {
	id := spec.ID
	if id == 0 {
		id = st.nextJobID
	}
	if st.jobs[id] != nil {
		panic(fmt.Sprintf("gitlabtest: job %d already exists", id))
	}
	st.nextJobID = max(st.nextJobID, id+1)
	j := &job{id: id, pipeline: p, name: spec.Name, stage: spec.Stage, status: spec.Status,
		created: st.now(), expireAt: spec.ArtifactsExpireAt, access: spec.ArtifactsAccess, reports: spec.ReportsOnly}
	if j.access == "" {
		j.access = "all"
	}
	if j.stage == "" {
		j.stage = "test"
	}
	if j.status == "" {
		j.status = "success"
	}
	st.setToken(j, spec.Token)
	if spec.Artifact != nil {
		j.archive = st.newBlob(spec.Artifact, spec.ArtifactFilename)
	}
	st.jobs[id] = j
	p.jobs = append(p.jobs, j)
	return j
}

func (st *state) setToken(j *job, token string) {
	if token == "" {
		return
	}
	if st.jobTokens[token] != nil || st.private[token] != nil {
		panic("gitlabtest: token " + token + " is already in use")
	}
	j.token = token
	st.jobTokens[token] = j
}

func (st *state) newBlob(data []byte, name string) *blob {
	if name == "" {
		name = "artifacts.zip"
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			name = "artifacts.tar.gz"
		}
	}
	// GitLab sends the archive's SHA-256 as a strong ETag when it serves
	// the file itself (https://gitlab.com/gitlab-org/gitlab/-/issues/371991).
	sum := sha256.Sum256(data)
	return &blob{name: name, data: bytes.Clone(data), modTime: st.now(),
		etag: `"` + hex.EncodeToString(sum[:]) + `"`}
}

func (j *job) handle() *FakeJob {
	return &FakeJob{ID: j.id, ProjectID: j.pipeline.projectID, PipelineID: j.pipeline.id,
		Name: j.name, Token: j.token}
}

// Retry starts a new attempt of the pipeline's latest job called name: the new
// job has a higher id, the same name and stage, status "pending", no archive
// and no token. The old attempt becomes retried and is listed only with
// include_retried=true.
func (s *Server) Retry(pipelineID int64, name string) *FakeJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.pipelines[pipelineID]
	if p == nil {
		panic(fmt.Sprintf("gitlabtest: pipeline %d does not exist", pipelineID))
	}
	i := slices.IndexFunc(p.jobs, func(j *job) bool { return j.name == name && !j.retried && !j.bridge })
	if i < 0 {
		panic(fmt.Sprintf("gitlabtest: pipeline %d has no job %q", pipelineID, name))
	}
	old := p.jobs[i]
	old.retried = true
	return s.st.newJob(p, JobSpec{Name: old.name, Stage: old.stage, Status: "pending"}).handle()
}

// SetStatus changes a job's status, e.g. to make it finish while a test waits.
func (s *Server) SetStatus(jobID int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.job(jobID).status = status
}

// SetArtifact replaces a job's archive (nil removes it). The new archive gets
// a new ETag and Last-Modified, so an If-Range for the old one no longer
// matches.
func (s *Server) SetArtifact(jobID int64, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.st.job(jobID)
	j.archive = nil
	if data != nil {
		j.archive = s.st.newBlob(data, "")
	}
}

func (st *state) job(id int64) *job {
	j := st.jobs[id]
	if j == nil {
		panic(fmt.Sprintf("gitlabtest: job %d does not exist", id))
	}
	return j
}

// AddToken registers a personal/project access token with read_api, sent as
// PRIVATE-TOKEN or Bearer. It may read the given projects, or every project
// when none is given.
func (s *Server) AddToken(token string, projects ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.jobTokens[token] != nil {
		panic("gitlabtest: token " + token + " is already a job token")
	}
	t := &privateToken{}
	if len(projects) > 0 {
		t.projects = map[int64]bool{}
		for _, id := range projects {
			t.projects[id] = true
		}
	}
	s.st.private[token] = t
}

// tokens lists every token the server knows, for the object store's leak check.
func (s *Server) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(slices.Collect(maps.Keys(s.st.private)), slices.Collect(maps.Keys(s.st.jobTokens))...)
}

// RedirectTo makes the archive routes answer 302 to a presigned URL on store,
// like GitLab with object storage and direct download. Nil turns it off.
func (s *Server) RedirectTo(store *ObjectStore) {
	s.mu.Lock()
	s.st.store = store
	s.mu.Unlock()
	if store != nil {
		store.watch(s.tokens)
	}
}

// RetryDuringListing retries the pipeline's job called name just before the
// jobs listing answers its nth request (1 for the first), as happens when
// someone presses "Retry" while a client pages through: the retried row
// leaves the listing and the new attempt appears on top (newest first), so
// every row above the old one moves one place later. A client that fetched
// a later page before an earlier one skips the row that crossed the page
// boundary. It fires once.
func (s *Server) RetryDuringListing(pipelineID int64, name string, nth int) {
	s.OnRequest(RouteJobs, func(n int) {
		if n == nth {
			s.Retry(pipelineID, name)
		}
	})
}
