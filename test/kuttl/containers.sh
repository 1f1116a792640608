#!/usr/bin/env bash
# test/kuttl/containers.sh — what the provider runs, from the Docker engine, for the kuttl asserts.
#
#   containers.sh running WORKLOAD N   exactly N app containers of WORKLOAD's pods run
#   containers.sh none WORKLOAD        no container of WORKLOAD's pods is left, sandboxes included
#
# Containers are found by the labels the agent sets (namespace $NAMESPACE, from kuttl); a pod of a
# Deployment is named <workload>-<hash>-<suffix>. On a mismatch it prints what it found. The engine
# is the provider machine's: KUTTL_PROVIDER_DOCKER_HOST, by default that of start-providers.sh's.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export DOCKER_HOST=${KUTTL_PROVIDER_DOCKER_HOST:-unix://$ROOT/.lattice/machines/kuttl/docker.sock}
mode=$1 workload=$2
list() {
  docker ps "$@" --filter "label=lattice.dev/pod-namespace=$NAMESPACE" \
    --format '{{.Label "lattice.dev/pod-name"}} {{.Label "lattice.dev/container"}} {{.Status}}' | { grep "^$workload-" || true; }
}
case $mode in
  running)
    found=$(list --filter label=lattice.dev/container=app)
    count=$(printf '%s' "$found" | grep -c . || true)
    [[ $count == "$3" ]] || { echo "expected $3 running app containers of $workload, found $count:"; echo "$found"; exit 1; }
    ;;
  none)
    found=$(list -a)
    [[ -z $found ]] || { echo "containers of $workload are left:"; echo "$found"; exit 1; }
    ;;
  *) echo "usage: $0 running WORKLOAD N | none WORKLOAD" >&2; exit 2 ;;
esac
