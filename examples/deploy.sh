#!/usr/bin/env bash
# Runs in the deploy job. Hands the web server the URL of build's artifacts
# and this job's token, then runs remote-deploy.sh there over SSH.
#
# The token travels on SSH's standard input, never on a command line (where
# `ps` on the remote host would show it). It is valid only while this job
# runs, which is exactly as long as the remote script needs it.
set -euo pipefail

: "${ARTIFACT_URL_BUILD:?is not set: is this runner using pipeline-artifacts (custom executor or env hook)?}"
: "${CI_JOB_TOKEN:?is not set: run this inside a GitLab CI job}"
: "${DEPLOY_HOST:?names the web server to deploy to}"
SSH=${DEPLOY_SSH:-ssh}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

{
  printf 'export ARTIFACT_URL_BUILD=%q\n' "$ARTIFACT_URL_BUILD"
  printf 'export CI_JOB_TOKEN=%q\n' "$CI_JOB_TOKEN"
  printf 'export WWW_DIR=%q\n' "${WWW_DIR:-/srv/www}"
  cat "$here/remote-deploy.sh"
} | $SSH "$DEPLOY_HOST" bash -s
