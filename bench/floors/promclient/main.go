// Command promclient is the nethttp floor with the Prometheus Go client
// linked as the service links it (its registry, the Go and process
// collectors, promhttp), unused: what the client's package initialisation
// adds to every stage of a binary that also serves /metrics.
package main

import (
	_ "net/http"

	_ "github.com/prometheus/client_golang/prometheus/collectors"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/floors/internal/wrap"
)

func main() { wrap.Main() }
