// Command bare is the floor of any stage driver written in Go: it only
// runs bash on the script, waits and passes the exit status on.
package main

import "gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/floors/internal/wrap"

func main() { wrap.Main() }
