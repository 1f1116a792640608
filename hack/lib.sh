# Shared helpers for the hack/ scripts. Source it; do not run it.
# Every script works from the repository root and keeps its state under .lattice/.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${LATTICE_STATE:-$ROOT/.lattice}"
BIN="$ROOT/bin"
LOGS="$STATE/logs"
RUN="$STATE/run"
export PATH="$BIN:$PATH"
mkdir -p "$LOGS" "$RUN"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# wait_until SECONDS DESCRIPTION CMD...: poll CMD until it succeeds or the deadline passes.
wait_until() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "$what did not happen within ${seconds}s"
    fi
    sleep 0.5
  done
}

# start_daemon NAME CMD...: start CMD in the background with its own process group,
# log to $LOGS/NAME.log, record its PID in $RUN/NAME.pid. No-op if it already runs.
start_daemon() {
  local name=$1; shift
  mkdir -p "$LOGS" "$RUN"
  if daemon_running "$name"; then
    log "$name already running (pid $(cat "$RUN/$name.pid"))"
    return 0
  fi
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

daemon_running() {
  local pidfile="$RUN/$1.pid"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# stop_daemon NAME: SIGTERM the process group recorded for NAME, SIGKILL after 15 s.
stop_daemon() {
  local name=$1 pidfile="$RUN/$1.pid"
  [[ -f "$pidfile" ]] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      warn "$name (pid $pid) ignored SIGTERM; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# apt_install PACKAGE...: install Debian packages (needs root), refreshing the lists once a day.
apt_install() {
  [[ $(id -u) == 0 ]] || die "installing $* needs root; install them yourself (sudo apt-get install -y $*)"
  log "installing $* from Debian's packages"
  mkdir -p "$STATE"
  if [[ ! -f "$STATE/.apt-updated" ]] || [[ -n $(find "$STATE/.apt-updated" -mmin +1440) ]]; then
    apt-get update -qq
    touch "$STATE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
