package serve_test

import (
	"os"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// setup is a GitLab the service may face and whether the operator gave the
// service an admin token (--api-token-file).
type setup struct {
	name    string
	profile gitlabtest.Profile
	admin   bool
}

var (
	ce17_9    = gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version17_9}
	ce18_9    = gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version18_9}
	ce19_2    = gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version19_2}
	eeFree180 = gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version18_0}
	eeFree192 = gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version19_2}
	eePrem179 = gitlabtest.Profile{Edition: gitlabtest.EEPremium, Version: gitlabtest.Version17_9}
	eePrem189 = gitlabtest.Profile{Edition: gitlabtest.EEPremium, Version: gitlabtest.Version18_9}
	eePrem192 = gitlabtest.Profile{Edition: gitlabtest.EEPremium, Version: gitlabtest.Version19_2}
)

// familySetups are GitLabs on which the service must see a caller's whole
// family: from 19.2 the job token lists trigger jobs itself; before, bridges
// take only the admin token, and before 18.0 so do pipeline jobs.
var familySetups = []setup{
	{"CE 19.2 with the job token alone", ce19_2, false},
	{"EE Free 19.2 with the job token alone", eeFree192, false},
	{"EE Premium 19.2 with the job token alone", eePrem192, false},
	{"CE 18.9 with the admin token for bridges", ce18_9, true},
	{"EE Free 18.0 with the admin token for bridges", eeFree180, true},
	{"CE 17.9 with the admin token for every listing", ce17_9, true},
	{"EE Premium 17.9 with the admin token for every listing", eePrem179, true},
}

// start seeds the pipeline on c's GitLab and starts the service, with an
// admin token file when c.admin.
func (c setup) start(t *testing.T, args ...string) (seed, *service) {
	t.Helper()
	s := newSeed(t, gitlabtest.WithProfile(c.profile))
	if c.admin {
		args = append(args, "--api-token-file", adminTokenFile(t, s.gl))
	}
	return s, startService(t, s.gl.URL, args...)
}

// adminTokenFile makes adminToken valid on gl for the seed's project and
// writes it to a file only its owner may read.
func adminTokenFile(t *testing.T, gl *gitlabtest.Server) string {
	t.Helper()
	gl.AddToken(adminToken, project)
	file := t.TempDir() + "/token"
	if err := os.WriteFile(file, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
