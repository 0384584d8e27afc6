package doctor

// Status is how a finding bears on the host.
type Status int

const (
	OK Status = iota
	Warn
	Fail
	Skip
)

// String is the status word the command line prints.
func (s Status) String() string {
	return [...]string{"ok", "warn", "FAIL", "skip"}[s]
}

// Check names what a finding is about.
type Check string

const (
	CheckCA           Check = "ca"
	CheckGitLab       Check = "gitlab"
	CheckAdminFile    Check = "admin-token-file"
	CheckAdminToken   Check = "admin-token"
	CheckAdminListing Check = "admin-listing"
	CheckJobToken     Check = "job-token"
	CheckJobListing   Check = "job-listing"
	CheckChildren     Check = "child-pipelines"
	CheckDownloads    Check = "downloads"
	CheckCache        Check = "cache-dir"
	CheckCommand      Check = "command"
)

// Reason is what a check found, for callers that branch and for tests.
type Reason string

const (
	// Anything that could not be tried for want of input or of a reachable GitLab.
	NotTested Reason = "not tested"
	NotGiven  Reason = "not given"

	Certificates  Reason = "certificates"
	CertsExpired  Reason = "certificates expired"
	NoCertificate Reason = "no certificate"
	Unreadable    Reason = "unreadable"

	Reached     Reason = "reached"
	Unreachable Reason = "unreachable"

	Private    Reason = "readable only by its owner"
	WideMode   Reason = "readable by others"
	Accepted   Reason = "accepted"
	Rejected   Reason = "rejected"  // 401: unknown, expired or revoked
	NoScope    Reason = "no scope"  // 403: lacks read_api
	NotAJob    Reason = "not a job" // GET /job 404: a personal token
	Lists      Reason = "lists"
	NoPipeline Reason = "no pipeline"
	Refused    Reason = "refused"
	Failed     Reason = "failed"

	// Child pipelines (bridges / trigger_jobs).
	WithJobToken  Reason = "with the job token"
	NeedsAdmin    Reason = "needs the admin token"
	NotListed     Reason = "not listed"
	NoChildRoutes Reason = "no child pipelines here"

	// Artifact downloads with the job token.
	PublicRoute Reason = "public route"
	RunnerRoute Reason = "runner route"

	CacheOff     Reason = "off"
	Writable     Reason = "writable"
	NotWritable  Reason = "not writable"
	NotDirectory Reason = "not a directory"
	WillCreate   Reason = "created by the first job"
	Found        Reason = "found"
	Missing      Reason = "missing"
)

// Finding is one line of doctor's answer.
type Finding struct {
	Check   Check
	Status  Status
	Reason  Reason
	Message string // one English line, without the status word
}

// Grant is what GitLab answered to one probe of one route.
type Grant int

const (
	Untried Grant = iota // not probed (no token, no project, unreachable)
	Allowed              // 2xx
	Denied               // 401, 403 or 404
	Unclear              // any other failure: nothing learnt
)

// JobAccess is what GitLab lets a job token on this host do, probe by probe.
type JobAccess struct {
	Identity       Grant // GET /job
	ListJobs       Grant // GET /projects/:id/pipelines/:pid/jobs
	ListBridges    Grant // GET …/bridges (deprecated in 19.2)
	ListTriggers   Grant // GET …/trigger_jobs (its successor)
	PublicDownload Grant // GET /projects/:id/jobs/:job_id/artifacts
	RunnerDownload Grant // GET /jobs/:id/artifacts (the runner route)
	// AdminBridges is the admin token on …/bridges, tried when the job token
	// may not list child pipelines.
	AdminBridges Grant
}
