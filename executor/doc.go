// Package executor speaks the GitLab Runner custom-executor protocol: it reads
// the environment the runner hands every stage, writes the config stage's JSON,
// reports the job's real exit code and runs the runner's generated stage script
// in a process group of its own.
//
// The package knows nothing about GitLab's API or about sibling jobs; the CLI
// composes it with the packages that do.
package executor
