#!/usr/bin/env bash
# test/kuttl/start-providers.sh — what the kuttl suite runs against: the real operator (controllers
# and gateway, from operator/src/main.ts) reconciling the suite's namespace only, and one real
# provider agent (lattice-agent join, then run) on a provider machine of its own, "kuttl"
# (hack/machines: its own network namespace behind NAT and its own Docker engine, whose socket
# containers.sh reads through DOCKER_HOST), which reaches the gateway at the public address only.
#
#   start-providers.sh        start both, then run until killed (a background command of the suite)
#   start-providers.sh wait   wait until the provider's Node is Ready and schedulable
#
# kuttl ends a background command with SIGKILL, which cannot be trapped. So a janitor, started
# here in its own session, waits for this script to die and then cleans up: it deletes the suite's
# namespace while the operator and the agent still run (the agent stops every container, the
# gateway confirms the pods' deletion), stops them, and removes the Node, the gateway's namespace,
# the machine, the state under .lattice/kuttl and the kubeconfig file kuttl wrote.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAMESPACE=lattice-kuttl             # the suite's namespace (kuttl-test.yaml)
SYSTEM_NAMESPACE=lattice-kuttl-system
SUITE_LABEL=provider.lattice.dev/suite
STATE=$ROOT/.lattice/kuttl
LOGS=$ROOT/.lattice/logs
LOCK=$ROOT/.lattice/kuttl.lock      # held by a janitor until its cleanup is done
KUBECTL=$ROOT/bin/kubectl
MACHINE=kuttl                       # the provider machine (hack/machines)
PUBLIC_ADDRESS=198.18.0.1           # where machines reach the cluster (hack/machines)
export KUBECONFIG=${KUBECONFIG:-$ROOT/.lattice/kubeconfig}

log() { printf '%s start-providers: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
node_ts() { node --import tsx "$@"; }

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# Sends SIGTERM to the processes listed in $STATE/pids, then SIGKILL to any still running after 20 s.
stop_processes() {
  [[ -f $STATE/pids ]] || return 0
  local pid
  for pid in $(cat "$STATE/pids"); do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $(cat "$STATE/pids"); do
    timeout 20 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
}

cleanup() {
  log "cleaning up"
  # The Workloads first, while the operator and the agent still run: the agent stops the
  # containers and the gateway finishes the pods' deletion.
  "$KUBECTL" delete namespace "$NAMESPACE" --ignore-not-found --timeout=90s >&2 || {
    log "namespace $NAMESPACE not gone in time; forcing its pods"
    "$KUBECTL" delete pods --all -n "$NAMESPACE" --force --grace-period=0 >&2 || true
  }
  stop_processes
  "$KUBECTL" delete node -l "$SUITE_LABEL=kuttl" --ignore-not-found >&2 || true
  "$KUBECTL" delete namespace "$SYSTEM_NAMESPACE" --ignore-not-found --wait=false >&2 || true
  "$ROOT/hack/machines" down "$MACHINE" >&2 || true  # its engine, containers and networks with it
  rm -rf "$STATE"
}

# The janitor: waits for the script ($1) to die, cleans up, then, once kuttl ($2) is gone, removes
# the kubeconfig ($3) it wrote, unless it was written again since (by the next run: $4 is the
# file's modification time when this run started).
janitor() {
  local script=$1 kuttl=$2 kubeconfig=$3 written=$4
  exec 9>"$LOCK"
  flock 9
  tail --pid="$script" -f /dev/null
  cleanup
  if [[ $kuttl != 0 ]]; then
    timeout 120 tail --pid="$kuttl" -f /dev/null || true
    if [[ -f $kubeconfig && $(stat -c %y "$kubeconfig") == "$written" ]]; then rm -f "$kubeconfig"; fi
  fi
  log "done"
}

start() {
  mkdir -p "$ROOT/.lattice" "$LOGS"
  # A previous run's janitor may still be cleaning up: wait for it, then for its namespaces to go.
  flock -w 180 "$LOCK" true
  "$KUBECTL" delete node -l "$SUITE_LABEL=kuttl" --ignore-not-found >&2
  local ns
  for ns in "$NAMESPACE" "$SYSTEM_NAMESPACE"; do "$KUBECTL" wait --for=delete "namespace/$ns" --timeout=120s >/dev/null 2>&1 || true; done
  rm -rf "$STATE"
  mkdir -p "$STATE"
  # `wait`, run by the same parent, waits for this run's provider, not one a previous run left.
  echo "$PPID" >"$STATE/run"

  # kuttl (our parent) writes ./kubeconfig before it runs us, and never removes it: the janitor does.
  local kuttl=0 written=
  if [[ $(ps -o comm= -p "$PPID") == kubectl-kuttl* && -f $PWD/kubeconfig ]]; then
    kuttl=$PPID
    written=$(stat -c %y "$PWD/kubeconfig")
  fi
  setsid "$0" janitor "$$" "$kuttl" "$PWD/kubeconfig" "$written" >"$LOGS/kuttl-janitor.log" 2>&1 </dev/null &

  for ns in "$NAMESPACE" "$SYSTEM_NAMESPACE"; do
    "$KUBECTL" create namespace "$ns" --dry-run=client -o yaml | "$KUBECTL" apply -f - >&2
  done

  local grpc_port kubelet_port
  grpc_port=$(free_port)
  kubelet_port=$(free_port)
  cd "$ROOT"
  # The machine first: the public address the gateway binds exists once the bed's internet does.
  "$ROOT/hack/machines" up "$MACHINE" >&2
  local home socket
  home=$(sed -n 's/^HOME_DIR=//p' "$ROOT/.lattice/machines/$MACHINE/machine.env")
  socket=$(sed -n 's/^DOCKER_SOCKET=//p' "$ROOT/.lattice/machines/$MACHINE/machine.env")
  node_ts operator/src/main.ts --kubeconfig "$KUBECONFIG" \
    --namespace "$SYSTEM_NAMESPACE" --watch-namespace "$NAMESPACE" --leader-election-identity kuttl \
    --health-address 127.0.0.1 --metrics-port 0 \
    --grpc-address "$PUBLIC_ADDRESS:$grpc_port" --serving-hosts "$PUBLIC_ADDRESS" --kubelet-address 127.0.0.1 --kubelet-port "$kubelet_port" \
    --provider-loss-timeout-seconds 30 --disconnect-grace-seconds 3 \
    >"$LOGS/kuttl-operator.log" 2>&1 &
  echo $! >>"$STATE/pids"
  local operator=$!
  local deadline=$((SECONDS + 90))
  until grep -q '"msg":"gateway listening"' "$LOGS/kuttl-operator.log"; do
    kill -0 "$operator" 2>/dev/null || { log "the operator exited: see $LOGS/kuttl-operator.log"; exit 1; }
    ((SECONDS < deadline)) || { log "the operator's gateway did not start: see $LOGS/kuttl-operator.log"; exit 1; }
    sleep 0.5
  done
  log "operator leading, gateway on $PUBLIC_ADDRESS:$grpc_port"

  local name=kuttl-provider-$(date +%s)
  # As a user on that machine runs it: its own home and engine, only the gateway's address and a token.
  local on_machine=("$ROOT/hack/machines" exec "$MACHINE" env HOME="$home" DOCKER_HOST="unix://$socket")
  local agent_state=$home/.lattice-agent
  mkdir -p -m 700 "$agent_state"
  printf 'labels:\n  %s: kuttl\n' "$SUITE_LABEL" >"$agent_state/config.yaml"
  local token
  token=$(node_ts operator/src/cli.ts --kubeconfig "$KUBECONFIG" -n "$SYSTEM_NAMESPACE" token create --ttl 10m --description kuttl)
  "${on_machine[@]}" node --import tsx agent/src/cli.ts join --gateway "$PUBLIC_ADDRESS:$grpc_port" --token "$token" --name "$name" \
    --cpu 1 --memory 1Gi --max-pods 20 >&2
  echo "$name" >"$STATE/node"
  "${on_machine[@]}" node --import tsx agent/src/cli.ts run >"$LOGS/kuttl-agent.log" 2>&1 &
  echo $! >>"$STATE/pids"
  log "provider $name running"
  wait
}

wait_ready() {
  local deadline=$((SECONDS + 150))
  until [[ -f $STATE/node && $(cat "$STATE/run" 2>/dev/null) == "$PPID" ]]; do
    ((SECONDS < deadline)) || { log "no provider joined: see $LOGS/kuttl-operator.log"; exit 1; }
    sleep 0.5
  done
  local name
  name=$(cat "$STATE/node")
  until "$KUBECTL" wait --for=condition=Ready "node/$name" --timeout=5s >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "node $name not Ready: see $LOGS/kuttl-agent.log"; exit 1; }
    sleep 0.5
  done
  # Until the node lifecycle controller has seen it Ready, a new Node is tainted not-ready.
  until ! "$KUBECTL" get node "$name" -o jsonpath='{.spec.taints[*].key}' | grep -q node.kubernetes.io/; do
    ((SECONDS < deadline)) || { log "node $name still tainted"; exit 1; }
    sleep 0.5
  done
  log "provider $name Ready"
}

case ${1:-start} in
  start) start ;;
  wait) wait_ready ;;
  janitor) shift; janitor "$@" ;;
  *) echo "usage: $0 [start|wait]" >&2; exit 2 ;;
esac
