#!/usr/bin/env bash
# A stand-in for a custom-executor driver an admin already runs (VMs,
# containers, macOS hosts): it runs each stage script in a clean
# environment, as a driver that runs jobs elsewhere does, so nothing of the
# runner's environment (job_env included) reaches the job unless it is
# written into the script. pipeline-artifacts --wrap does exactly that.
set -euo pipefail
case "$1" in
  config)
    echo '{"driver":{"name":"inner-vm","version":"1.0"},"hostname":"vm-01","job_env":{"INNER_DRIVER":"yes"}}'
    ;;
  prepare)
    echo "inner-vm: starting a VM"
    ;;
  run)
    # $2 is the stage script, $3 the stage name.
    code=0
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="${HOME:-/}" bash "$2" || code=$?
    if [ "$code" -ne 0 ]; then
      [ -n "${BUILD_EXIT_CODE_FILE:-}" ] && echo "$code" > "$BUILD_EXIT_CODE_FILE"
      exit "${BUILD_FAILURE_EXIT_CODE:-1}"
    fi
    ;;
  cleanup)
    echo "inner-vm: removing the VM"
    ;;
esac
