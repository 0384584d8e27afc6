package gitlabtest

import (
	"fmt"
	"strconv"
	"strings"
)

// Edition is a GitLab edition and licence tier, as far as the APIs the fake
// serves tell them apart.
type Edition int

// The editions the fake can play. Ultimate behaves like Premium on every
// route the fake serves.
const (
	// CE is GitLab Community Edition (FOSS).
	CE Edition = iota
	// EEFree is GitLab Enterprise Edition without a licence: the default
	// self-managed package and GitLab.com Free namespaces.
	EEFree
	// EEPremium is GitLab Enterprise Edition with a Premium (or Ultimate)
	// licence.
	EEPremium
)

func (e Edition) String() string {
	switch e {
	case EEFree:
		return "EE Free"
	case EEPremium:
		return "EE Premium"
	}
	return "CE"
}

// The versions the fake can play, one per behaviour change the client must
// survive:
//
//   - 17.9: the job token may not list pipelines or their jobs.
//   - 18.0: it may list the jobs of its own project's pipelines
//     (https://docs.gitlab.com/ci/jobs/fine_grained_permissions/ lists
//     "GET /projects/:id/pipelines/:pipeline_id/jobs" under Jobs: Read, beta
//     since 18.0), but not the bridges
//     (https://gitlab.com/gitlab-org/gitlab/-/issues/554448).
//   - 18.9: as 18.0; runners also get CI_UPSTREAM_PIPELINE_ID and friends
//     (https://docs.gitlab.com/ci/variables/predefined_variables/).
//   - 19.2: GET …/pipelines/:id/trigger_jobs exists and takes the job token;
//     /bridges is deprecated in its favour and takes it too
//     (https://docs.gitlab.com/api/jobs/#list-pipeline-trigger-jobs,
//     https://gitlab.com/gitlab-org/api/client-go/-/merge_requests/3134).
const (
	Version17_9 = "17.9"
	Version18_0 = "18.0"
	Version18_9 = "18.9"
	Version19_2 = "19.2"
)

// Profile is one GitLab the fake plays: an edition and a minor version.
type Profile struct {
	Edition Edition
	Version string // one of the Version constants, "major.minor"
}

// DefaultProfile is what New plays without WithProfile: CE 18.9.
var DefaultProfile = Profile{Edition: CE, Version: Version18_9}

// Profiles returns every edition × version the fake plays: 12 profiles.
func Profiles() []Profile {
	var out []Profile
	for _, e := range []Edition{CE, EEFree, EEPremium} {
		for _, v := range []string{Version17_9, Version18_0, Version18_9, Version19_2} {
			out = append(out, Profile{Edition: e, Version: v})
		}
	}
	return out
}

// String reads like "EE Free 18.0", for test names.
func (p Profile) String() string { return p.Edition.String() + " " + p.Version }

// ServerVersion is what GET /version reports: "18.9.0", or "18.9.0-ee" on EE.
func (p Profile) ServerVersion() string {
	v := p.Version + ".0"
	if p.Edition != CE {
		v += "-ee"
	}
	return v
}

// AtLeast reports whether the profile's version is v ("major.minor") or later.
func (p Profile) AtLeast(v string) bool {
	return compareVersions(p.Version, v) >= 0
}

func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] - pb[i]
		}
	}
	return 0
}

func versionParts(v string) [2]int {
	major, minor, _ := strings.Cut(v, ".")
	a, err1 := strconv.Atoi(major)
	b, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		panic(fmt.Sprintf("gitlabtest: version %q is not major.minor", v))
	}
	return [2]int{a, b}
}

// JobTokenListsJobs: GET /projects/:id/pipelines[/:pid[/jobs]] take the job
// token from 18.0 (lib/api/ci/pipelines.rb, job_token_allowed: true).
func (p Profile) JobTokenListsJobs() bool { return p.AtLeast(Version18_0) }

// JobTokenListsBridges: /bridges refuses the job token on 18.x
// (https://gitlab.com/gitlab-org/gitlab/-/issues/554448) and takes it once
// /trigger_jobs exists (19.2).
func (p Profile) JobTokenListsBridges() bool { return p.AtLeast(Version19_2) }

// HasTriggerJobs: GET …/pipelines/:id/trigger_jobs exists from 19.2.
func (p Profile) HasTriggerJobs() bool { return p.AtLeast(Version19_2) }

// PublicArtifactsTakeJobToken: the project's job-artifacts API
// (lib/api/ci/job_artifacts.rb) takes a job token on CE and on EE with
// Premium; EE without that licence ignores it
// (ee/lib/ee/api/ci/job_artifacts.rb; docs: "Authentication with a CI/CD job
// token available in the Premium and Ultimate tier",
// https://docs.gitlab.com/api/job_artifacts/).
func (p Profile) PublicArtifactsTakeJobToken() bool { return p.Edition != EEFree }

// HasUpstreamVariables: CI_UPSTREAM_PIPELINE_ID, _PROJECT_ID and _JOB_ID
// exist from 18.9 (https://docs.gitlab.com/ci/variables/predefined_variables/).
func (p Profile) HasUpstreamVariables() bool { return p.AtLeast(Version18_9) }

// WithProfile makes the server play p.
func WithProfile(p Profile) Option {
	versionParts(p.Version) // fail early on a typo
	return func(c *config) { c.profile = p }
}

// OlderGitLab plays CE 17.9, before job tokens could read pipelines: the job
// token is ignored on the pipeline routes (so a private project answers 404),
// trigger_jobs does not exist, and GET /version reports 17.9.0.
func OlderGitLab() Option { return WithProfile(Profile{Edition: CE, Version: Version17_9}) }
