package hooks

import (
	"slices"
	"strconv"
	"strings"
)

// Names and prefixes of the variables every job gets (README.md, "What every job gets").
const (
	URLPrefix      = "ARTIFACT_URL_"
	JobIDPrefix    = "ARTIFACT_JOB_ID_"
	GroupURLPrefix = "ARTIFACT_URLS_"
	ManifestVar    = "PIPELINE_ARTIFACTS_MANIFEST"
)

// Variables returns the variables for a job with these siblings:
// ARTIFACT_URL_<N> and ARTIFACT_JOB_ID_<N> per sibling, ARTIFACT_URLS_<G> per
// parallel/matrix group, and PIPELINE_ARTIFACTS_MANIFEST when manifestPath is
// not "".
//
// A group's URLs are space-separated in job-name order: digit runs compare by
// value, so "test 2/10" precedes "test 10/10" (see compareJobNames). The job
// itself is not a sibling, so its own group lists only the other members.
func Variables(sibs []Sibling, manifestPath string) map[string]string {
	vars := make(map[string]string, 2*len(sibs)+1)
	groups := make(map[string][]Sibling)
	for _, s := range sibs {
		vars[URLPrefix+s.Var] = s.URL
		vars[JobIDPrefix+s.Var] = strconv.FormatInt(s.ID, 10)
		if s.Group != "" {
			groups[s.Group] = append(groups[s.Group], s)
		}
	}
	for g, members := range groups {
		vars[GroupURLPrefix+g] = groupURLs(members)
	}
	if manifestPath != "" {
		vars[ManifestVar] = manifestPath
	}
	return vars
}

// groupURLs sorts members in job-name order and joins their URLs.
func groupURLs(members []Sibling) string {
	slices.SortFunc(members, func(a, b Sibling) int { return compareJobNames(a.Name, b.Name) })
	urls := make([]string, len(members))
	for i, s := range members {
		urls[i] = s.URL
	}
	return strings.Join(urls, " ")
}
