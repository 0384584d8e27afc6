package executor

import (
	"fmt"
	"net/url"
)

// PinnedHost checks that apiURL, read from CI_API_V4_URL, is on the GitLab
// host the runner's own job payload came from (runnerHost, empty when the
// payload does not say). A pipeline may redefine any job variable, the
// payload it cannot: credentials of the runner host, such as the admin
// token, go only where this check passes.
func PinnedHost(apiURL, runnerHost string) error {
	if runnerHost == "" {
		return nil
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host != runnerHost {
		return fmt.Errorf("CI_API_V4_URL %q is not on the runner's GitLab host %s", apiURL, runnerHost)
	}
	return nil
}
