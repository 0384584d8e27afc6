// Package hooks turns a pipeline's sibling jobs into what a job is given:
// the ARTIFACT_URL_<N>, ARTIFACT_JOB_ID_<N> and ARTIFACT_URLS_<G> variables,
// the manifest file PIPELINE_ARTIFACTS_MANIFEST points to, and their
// renderings for the env subcommand.
//
// The files here are pure: they read the runner's job payload and write the
// manifest, but never talk to GitLab. Fetching the pipeline's job list (and
// caching it) is resolve.go's business; it feeds this half gitlab.Job values.
package hooks
