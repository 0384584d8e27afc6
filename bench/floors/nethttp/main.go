// Command nethttp is the floor wrapper with net/http (and with it
// crypto/tls and crypto/x509) linked and initialised, unused: the floor of
// any stage driver that can also talk to GitLab.
package main

import (
	_ "net/http"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/floors/internal/wrap"
)

func main() { wrap.Main() }
