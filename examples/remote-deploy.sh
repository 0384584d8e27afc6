#!/usr/bin/env bash
# Runs on the web server (piped in by deploy.sh). Needs only the
# pipeline-artifacts binary on PATH: it waits until build has uploaded,
# resumes a broken transfer, verifies the size and extracts safely.
set -euo pipefail
pipeline-artifacts download --url "$ARTIFACT_URL_BUILD" --dest "$WWW_DIR" --wait=10m
echo "deployed: $(ls "$WWW_DIR")"
