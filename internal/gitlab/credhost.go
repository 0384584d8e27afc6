package gitlab

import "net/url"

// CredentialFor returns cred when target lies on the GitLab of api or on
// one of the trusted origins (same scheme and host), else the zero
// Credential and false: a token goes only to the GitLab it belongs to,
// never to a URL a pipeline or a user pointed elsewhere. An empty api (a
// host outside CI, where the URL itself names GitLab) trusts target.
func CredentialFor(cred Credential, api, target string, trusted ...string) (Credential, bool) {
	if cred.Token == "" || api == "" {
		return cred, true
	}
	t, err := url.Parse(target)
	if err != nil {
		return Credential{}, false
	}
	for _, o := range append([]string{api}, trusted...) {
		if u, err := url.Parse(o); err == nil && o != "" && SameOrigin(u, t) {
			return cred, true
		}
	}
	return Credential{}, false
}
