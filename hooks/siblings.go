package hooks

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Where a sibling's data came from, for Sibling.Source and Manifest.Source.
const (
	// SourcePayload is the runner's job payload (its dependencies list).
	SourcePayload = "payload"
	// SourceAPI is GitLab's list of the pipeline's jobs.
	SourceAPI = "api"
)

// Sibling is another job of the pipeline as a job is told about it. It holds
// no token: nothing that builds one ever reads a token.
type Sibling struct {
	Name  string // exact job name
	Var   string // its <N>, after collision handling
	Group string // its <G>, after collision handling; "" outside parallel/matrix groups
	ID    int64
	Stage string
	// Status is GitLab's job status; "" when unknown (a payload dependency
	// without artifacts).
	Status           string
	ArtifactFilename string // "" when no archive is known
	ArtifactSize     int64
	ArtifactExpireAt *time.Time
	// URL is ARTIFACT_URL_<N>: the runner route <api>/jobs/<id>/artifacts,
	// which takes the job token on every GitLab tier and version.
	URL string
	// PublicURL is the same archive on the project's artifacts API
	// (<api>/projects/<project>/jobs/<id>/artifacts), which also serves
	// single files but refuses job tokens on GitLab EE Free.
	PublicURL string
	Source    string // SourcePayload or SourceAPI; set by MarkSources
	// Pipeline and Relation are set for jobs of related pipelines only:
	// RelationParent (the pipeline that triggered this one) or
	// RelationChild (a pipeline a bridge of this one triggered).
	Pipeline int64
	Relation string
}

// LatestAttempts keeps the latest attempt of each job name, sorted by name
// bytewise. GitLab's job entity has no "retried" field; a retry is a new job
// with a higher id, so the highest id per name is the latest attempt.
func LatestAttempts(jobs []gitlab.Job) []gitlab.Job {
	latest := make(map[string]gitlab.Job, len(jobs))
	for _, j := range jobs {
		if cur, ok := latest[j.Name]; !ok || j.ID > cur.ID {
			latest[j.Name] = j
		}
	}
	return sortedByName(latest)
}

func sortedByName(byName map[string]gitlab.Job) []gitlab.Job {
	return slices.SortedFunc(maps.Values(byName), func(a, b gitlab.Job) int {
		return strings.Compare(a.Name, b.Name)
	})
}

// Merge combines the payload's dependencies with the API's job list, latest
// attempt per name, sorted by name.
//
// For a name both know, the payload decides which job it is: it names the
// exact job whose artifacts the runner itself hands this job, while the API
// list may come from a cache that predates a retry (the retried sibling then
// gets its new id). When both name the same id, the API record is kept, since
// it also knows stage, status and expiry, but the payload's artifact, and the
// status that implies, win over an API record that does not show them yet.
// When the ids differ, the API's stage is kept: a retry stays in its stage.
//
// Dependencies from needs:project live in another project and cannot be told
// apart in the payload; Merge treats every dependency as a sibling.
func Merge(payload, api []gitlab.Job) []gitlab.Job {
	byName := make(map[string]gitlab.Job, len(payload)+len(api))
	for _, j := range LatestAttempts(api) {
		byName[j.Name] = j
	}
	for _, p := range LatestAttempts(payload) {
		a, ok := byName[p.Name]
		if ok {
			p = mergeJob(p, a)
		}
		byName[p.Name] = p
	}
	return sortedByName(byName)
}

// mergeJob merges a payload job p into the API job a of the same name.
func mergeJob(p, a gitlab.Job) gitlab.Job {
	if p.ID != a.ID {
		p.Stage = cmp.Or(p.Stage, a.Stage)
		return p
	}
	if p.ArtifactsFile != nil && a.ArtifactsFile == nil {
		a.ArtifactsFile = p.ArtifactsFile
		if !gitlab.Finished(a.Status) {
			a.Status = cmp.Or(p.Status, a.Status)
		}
	}
	return a
}

// BuildSiblings turns a pipeline's jobs into the siblings of job selfID,
// sorted by name bytewise. It keeps the latest attempt of each name, leaves
// out the job itself and every attempt of its name, and assigns each sibling
// its <N> and, in a parallel/matrix group, its <G>.
//
// URL is the runner route <apiV4URL>/jobs/<id>/artifacts (every tier takes
// the job token there, lib/api/ci/runner.rb); PublicURL is
// <apiV4URL>/projects/<projectID>/jobs/<id>/artifacts with projectID
// path-escaped, so a project path ("group/project") works as well as
// CI_PROJECT_ID. A trailing "/" of apiV4URL is dropped. Both come from
// gitlab.ArtifactRef.
//
// collisions holds the <N> collisions (lists of job names, see
// AssignVarNames) followed by the <G> collisions (lists of group base names,
// e.g. "Test" and "test"), each list sorted.
// Source is left empty; see MarkSources.
func BuildSiblings(jobs []gitlab.Job, selfID int64, apiV4URL, projectID string) (sibs []Sibling, collisions [][]string) {
	others := withoutSelf(jobs, selfID)
	vars, collisions := AssignVarNames(jobNames(others))
	groups, groupCollisions := assignGroups(others)
	api := strings.TrimRight(apiV4URL, "/")
	sibs = make([]Sibling, 0, len(others))
	for _, j := range others {
		s := newSibling(j, gitlab.RunnerArtifactsURL(api, j.ID))
		s.PublicURL = gitlab.PublicArtifactsURL(api, projectID, j.ID)
		s.Var, s.Group = vars[j.Name], groups[j.Name]
		sibs = append(sibs, s)
	}
	return sibs, append(collisions, groupCollisions...)
}

// withoutSelf returns the latest attempts of all names but the job's own.
// The name is dropped too because an earlier attempt of this very job is not
// a sibling, and "the latest attempt" of its name would otherwise pick it.
func withoutSelf(jobs []gitlab.Job, selfID int64) []gitlab.Job {
	selfName, found := "", false
	for _, j := range jobs {
		if j.ID == selfID {
			selfName, found = j.Name, true
			break
		}
	}
	return slices.DeleteFunc(LatestAttempts(jobs), func(j gitlab.Job) bool {
		return j.ID == selfID || found && j.Name == selfName
	})
}

func jobNames(jobs []gitlab.Job) []string {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Name
	}
	return names
}

// assignGroups maps each group member's job name to its <G>. Groups are
// told apart by their raw base name, so "Test 1/2" and "test 1/2" form two
// groups that collide on TEST like job names do.
func assignGroups(jobs []gitlab.Job) (map[string]string, [][]string) {
	bases := make(map[string]string)
	for _, j := range jobs {
		if base, ok := groupBase(j.Name); ok {
			bases[j.Name] = base
		}
	}
	gvars, collisions := AssignVarNames(slices.Collect(maps.Values(bases)))
	groups := make(map[string]string, len(bases))
	for name, base := range bases {
		groups[name] = gvars[base]
	}
	return groups, collisions
}

func newSibling(j gitlab.Job, artifactsURL string) Sibling {
	s := Sibling{
		Name:             j.Name,
		ID:               j.ID,
		Stage:            j.Stage,
		Status:           j.Status,
		ArtifactExpireAt: j.ArtifactsExpireAt,
		URL:              artifactsURL,
	}
	if j.ArtifactsFile != nil {
		s.ArtifactFilename, s.ArtifactSize = j.ArtifactsFile.Filename, j.ArtifactsFile.Size
	}
	return s
}

// MarkSources sets each sibling's Source: SourcePayload when its id is one
// of the payload's jobs (Merge let the payload decide which job it is),
// SourceAPI otherwise.
func MarkSources(sibs []Sibling, payload []gitlab.Job) {
	fromPayload := make(map[int64]bool, len(payload))
	for _, j := range payload {
		fromPayload[j.ID] = true
	}
	for i := range sibs {
		sibs[i].Source = SourceAPI
		if fromPayload[sibs[i].ID] {
			sibs[i].Source = SourcePayload
		}
	}
}
