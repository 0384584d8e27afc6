#!/usr/bin/env bash
# Runs every benchmark of pipeline-artifacts on loopback RUNS times (default
# 3) and writes BENCHMARKS.md at the repository root: each figure's median
# and range over the runs, the issue's target and a verdict, the machine, and
# how to reproduce. About 5 minutes on 2 cores with the default 3 runs; needs
# Go, curl and unzip (a missing curl or unzip skips that comparison) and
# about 2 GiB free under $TMPDIR.
#
#   bash bench/run.sh
#   RUNS=5 bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
case "$runs" in
  '' | *[!0-9]* | 0) echo "bench/run.sh: RUNS must be a whole number of at least 1, not '$runs'" >&2; exit 2 ;;
esac
if ! command -v go >/dev/null; then
  echo "bench/run.sh: Go is not installed (this module needs the version go.mod names)" >&2
  exit 2
fi
for tool in curl unzip; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench/run.sh: $tool is not installed, so the comparison against it is skipped;" \
      "install both with: apt-get install -y curl unzip" >&2
  fi
done
exec go run ./bench/report -runs "$runs" -out BENCHMARKS.md
