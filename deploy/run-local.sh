#!/usr/bin/env bash
# Rehearse the deployed topology on one machine, without Docker.
#
#   deploy/run-local.sh [--duration S] [--run-dir DIR] [--startup-timeout S]
#
# Starts, as SEPARATE OS PROCESSES and all on 127.0.0.1:
#   redis-server      private, free port, one ACL user per role (as compose does: the ACL
#                     file deploy/redis/users-acl.sh makes from deploy/make-secrets.sh's files)
#   fake venues       python -m arbees.testing.venues: fake Kalshi (WS + REST) and fake
#                     Polymarket (WS + CLOB + Gamma) with two scripted NBA games
#   fake Gluetun      python -m arbees.testing.fake_gluetun, control server with an API key
#   bus tap           python -m arbees.testing.rehearsal tap: records signals and topology
#   orchestrator      arbees orchestrator
#   monitor           arbees monitor (egress check against the fake Gluetun, with the key)
#   2 shards          arbees shard, SHARD_ID=shard-1 and shard-2
# The services get the same environment variables the compose file sets, secrets as files
# (REDIS_PASSWORD_FILE, EGRESS_CHECK_API_KEY_FILE) in the run directory. The script waits
# until `arbees health --service ...` passes for every service and the games are spread
# over the shards with prices flowing, applies the scripted price move (SIGUSR1 to the fake
# venues), watches for S seconds (0 = until Ctrl-C), checks health again and prints a
# summary. Exit 0 only when every service was healthy, the arbitrage game produced an
# `open` signal after the move (none before) and the quiet game produced none.
#
# Kalshi auth is rehearsed for real: the fake venues generate a throw-away RSA key per run
# (arbees.testing.kalshi_keys; never a real credential) and verify every signature, and the
# services read it through KALSHI_API_KEY + KALSHI_PRIVATE_KEY_PATH like in compose.
#
# Interpreter: $ARBEES_PYTHON if set, else python3 if it can import arbees, else the one
# that runs the `arbees` on PATH. Logs of every process and the results (pids, exits,
# health.txt, signals.jsonl, summary.json) go to a temp dir whose path is printed. On any exit (normal,
# error, Ctrl-C) every process started here is stopped by pid: SIGINT (Trio cancels
# cleanly), then SIGTERM and SIGKILL for any that outlive a grace period.
set -euo pipefail

DURATION=10
STARTUP_TIMEOUT=90
RUN_DIR=""

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="${2:?--duration needs seconds}"; shift 2 ;;
    --duration=*) DURATION="${1#*=}"; shift ;;
    --run-dir) RUN_DIR="${2:?--run-dir needs a directory}"; shift 2 ;;
    --run-dir=*) RUN_DIR="${1#*=}"; shift ;;
    --startup-timeout) STARTUP_TIMEOUT="${2:?--startup-timeout needs seconds}"; shift 2 ;;
    --startup-timeout=*) STARTUP_TIMEOUT="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-local.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$DURATION" =~ ^[0-9]+$ ]] || { echo "run-local.sh: --duration must be whole seconds" >&2; exit 2; }
[[ "$STARTUP_TIMEOUT" =~ ^[0-9]+$ ]] || { echo "run-local.sh: bad --startup-timeout" >&2; exit 2; }

# ----------------------------------------------------------------------------- interpreter
if [[ -n "${ARBEES_PYTHON:-}" ]]; then
  PY="$ARBEES_PYTHON"
elif command -v python3 >/dev/null && python3 -c 'import arbees' 2>/dev/null; then
  PY=python3
elif ARBEES_BIN="$(command -v arbees)"; then
  PY="$(head -n1 "$ARBEES_BIN" | sed -n 's/^#! *//p' | cut -d' ' -f1)"
else
  echo "run-local.sh: no Python with arbees installed (set ARBEES_PYTHON or put arbees on PATH)" >&2
  exit 1
fi
"$PY" -c 'import arbees' || { echo "run-local.sh: $PY cannot import arbees" >&2; exit 1; }
command -v redis-server >/dev/null || {
  echo "run-local.sh: redis-server is not installed (e.g. apt-get install redis-server)" >&2
  exit 1
}

if [[ -z "$RUN_DIR" ]]; then
  RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/arbees-rehearsal.XXXXXX")"
else
  mkdir -p "$RUN_DIR"
  RUN_DIR="$(cd "$RUN_DIR" && pwd)"
fi
chmod 700 "$RUN_DIR"
: >"$RUN_DIR/pids"
: >"$RUN_DIR/exits"
: >"$RUN_DIR/health.txt"
echo "run-local: logs and results in $RUN_DIR"

# ----------------------------------------------------------------------------- processes
PIDS=()
NAMES=()
SETSID=""
command -v setsid >/dev/null && SETSID=setsid
WATCHING=0
INTERRUPTED=0

start() {  # start NAME CMD... : run in the background, log to NAME.log, record the pid
  local name="$1"
  shift
  # Background jobs of a script ignore SIGINT; restore it so SIGINT stops Trio cleanly. Each
  # gets its own session (when setsid exists): a Ctrl-C reaches this script only, which then
  # still judges the run and stops the processes itself, in order.
  ( trap - INT QUIT; exec $SETSID "$@" ) >"$RUN_DIR/$name.log" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
  echo "$name $!" >>"$RUN_DIR/pids"
}

alive() { kill -0 "$1" 2>/dev/null; }

stop_group() {  # stop_group INDEX... : SIGINT, then SIGTERM, then SIGKILL, by pid
  local i sig grace left status
  for sig in INT TERM KILL; do
    left=0
    for i in "$@"; do
      if alive "${PIDS[$i]}"; then
        [[ $sig == INT ]] || echo "run-local: ${NAMES[$i]} (pid ${PIDS[$i]}) still up; SIG$sig" >&2
        kill "-$sig" "${PIDS[$i]}" 2>/dev/null || true
        left=1
      fi
    done
    ((left)) || break
    case $sig in INT) grace=$((SECONDS + 8)) ;; *) grace=$((SECONDS + 3)) ;; esac
    while ((SECONDS < grace)); do
      left=0
      for i in "$@"; do alive "${PIDS[$i]}" && left=1; done
      ((left)) || break
      sleep 0.1
    done
  done
  for i in "$@"; do  # reap, and keep each exit status (after SIGINT, 0 is a clean stop)
    status=0
    wait "${PIDS[$i]}" 2>/dev/null || status=$?
    echo "${NAMES[$i]} ${PIDS[$i]} $status" >>"$RUN_DIR/exits"
  done
}

stop_all() {  # the services and fakes first, Redis (index 0) last
  local i rest=()
  [[ ${#PIDS[@]} -gt 0 ]] || return 0
  for ((i = ${#PIDS[@]} - 1; i >= 1; i--)); do rest+=("$i"); done
  [[ ${#rest[@]} -eq 0 ]] || stop_group "${rest[@]}"
  stop_group 0
  PIDS=()
}

on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  echo "run-local: stopped every process; logs in $RUN_DIR"
  exit "$rc"
}
trap on_exit EXIT
on_signal() {  # while watching, Ctrl-C ends the watch (summary follows); otherwise exit
  if ((WATCHING)); then
    INTERRUPTED=1
  else
    echo "run-local: interrupted" >&2
    exit 130
  fi
}
trap on_signal INT TERM

fail() {
  echo "run-local: FAILED: $*" >&2
  exit 1
}

check_alive() {  # fail, with the log tail, if any started process has exited
  local i
  for i in "${!PIDS[@]}"; do
    if ! alive "${PIDS[$i]}"; then
      echo "--- last lines of ${NAMES[$i]}.log ---" >&2
      tail -n 20 "$RUN_DIR/${NAMES[$i]}.log" >&2 || true
      fail "${NAMES[$i]} (pid ${PIDS[$i]}) exited"
    fi
  done
}

wait_until() {  # wait_until SECONDS WHAT CMD... : poll CMD until it succeeds
  local limit=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@"; do
    check_alive
    ((SECONDS < limit)) || fail "timed out waiting for $what"
    sleep 0.2
  done
}

secret() { "$PY" -c 'import secrets; print(secrets.token_hex(16))'; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# ----------------------------------------------------------------------------- environment
# Nothing from the caller's shell may point a service somewhere else.
unset METRICS_PORT METRICS_ADDR POLYMARKET_PROXY_URL KALSHI_PRIVATE_KEY EGRESS_REQUIRED_COUNTRIES \
  EGRESS_CHECK_TIMEOUT ARBEES_SERVICE SHARD_ID MONITOR_ID ORCHESTRATOR_ID REDIS_PASSWORD_FILE \
  EGRESS_CHECK_API_KEY EGRESS_CHECK_API_KEY_FILE EGRESS_CHECK_URL EGRESS_RETRY_INTERVAL \
  POLYMARKET_EGRESS_CHECK

# The deployment's secret files, made the deployment's way (the VPN credential files stay
# empty: the fake Gluetun needs none).
SECRETS="$RUN_DIR/secrets"
sh "$HERE/make-secrets.sh" "$SECRETS" >"$RUN_DIR/make-secrets.log"

# ----------------------------------------------------------------------------- redis
REDIS_PORT="$("$PY" -c 'from arbees.testing.redis_server import free_port; print(free_port())')"
mkdir -p "$RUN_DIR/redis"
# The bus tap (rehearsal only) reads everything it judges: a read/subscribe-only user.
TAP_PASSWORD="$(secret)"
TAP_HASH="$(printf '%s' "$TAP_PASSWORD" | sha256sum | cut -d' ' -f1)"
(
  umask 077
  sh "$HERE/redis/users-acl.sh" "$SECRETS" >"$RUN_DIR/redis/users.acl"
  echo "user rehearsal on #$TAP_HASH resetkeys resetchannels ~* &* -@all +ping +@read +@pubsub" \
    >>"$RUN_DIR/redis/users.acl"
  cat >"$RUN_DIR/redis/redis.conf" <<EOF
port $REDIS_PORT
bind 127.0.0.1
aclfile $RUN_DIR/redis/users.acl
save ""
appendonly no
dir $RUN_DIR/redis
daemonize no
loglevel notice
EOF
)
start redis redis-server "$RUN_DIR/redis/redis.conf"
wait_until 15 "redis-server" grep -qs "Ready to accept connections" "$RUN_DIR/redis.log"
# as_role ROLE CMD... : run CMD with the bus credentials of the Redis user ROLE (as compose does)
as_role() {
  local role="$1"
  shift
  REDIS_URL="redis://${role}@127.0.0.1:${REDIS_PORT}/0" \
    REDIS_PASSWORD_FILE="$SECRETS/redis_${role}_password" "$@"
}

# ----------------------------------------------------------------------------- fakes
STATE="$RUN_DIR/venues.json"
start venues "$PY" -m arbees.testing.venues --state-file "$STATE"
GLUETUN_API_KEY="$(cat "$SECRETS/gluetun_api_key")" \
  start gluetun "$PY" -m arbees.testing.fake_gluetun --port 0 --api-key-env GLUETUN_API_KEY \
  --country "United Kingdom"
wait_until 30 "the fake venues" test -s "$STATE"
wait_until 30 "the fake Gluetun" grep -qs "^fake Gluetun control server on http" "$RUN_DIR/gluetun.log"
GLUETUN_URL="$(sed -n 's/^fake Gluetun control server on \(http[^ ]*\) .*/\1/p' "$RUN_DIR/gluetun.log" | head -n1)"
VENUE_VARS="$("$PY" - "$STATE" <<'EOF'
import json, shlex, sys
s = json.load(open(sys.argv[1]))
for name, key in [("KALSHI_WS_URL", "kalshi_ws_url"), ("KALSHI_REST_URL", "kalshi_rest_url"),
                  ("POLYMARKET_WS_URL", "polymarket_ws_url"),
                  ("POLYMARKET_CLOB_URL", "polymarket_clob_url"),
                  ("POLYMARKET_GAMMA_URL", "polymarket_gamma_url"),
                  ("KALSHI_API_KEY", "kalshi_key_id"),
                  ("KALSHI_PRIVATE_KEY_PATH", "kalshi_private_key_path"),
                  ("VENUES_PID", "pid")]:
    print(f"{name}={shlex.quote(str(s[key] or ''))}")
EOF
)"
eval "$VENUE_VARS"

# The variables compose gives every arbees service (x-arbees-env) ...
export LOG_LEVEL="${LOG_LEVEL:-INFO}"
export LOG_FORMAT="${LOG_FORMAT:-human}"
export MAX_PRICE_AGE_MS="${MAX_PRICE_AGE_MS:-2000}"
export SHARD_TIMEOUT="${SHARD_TIMEOUT:-10}"
export DISCOVERY_INTERVAL="${DISCOVERY_INTERVAL:-30}"
export POLYMARKET_WS_URL POLYMARKET_CLOB_URL POLYMARKET_GAMMA_URL
# ... and the Kalshi ones (x-kalshi-env) the shards and the orchestrator get.
export KALSHI_API_KEY KALSHI_PRIVATE_KEY_PATH KALSHI_WS_URL KALSHI_REST_URL
export KALSHI_ENV=prod
export KALSHI_SERIES=KXNBAGAME

# ----------------------------------------------------------------------------- services
REDIS_URL="redis://rehearsal:${TAP_PASSWORD}@127.0.0.1:${REDIS_PORT}/0" \
  start tap "$PY" -m arbees.testing.rehearsal tap --run-dir "$RUN_DIR" --state-file "$STATE" \
  --shards 2
wait_until 30 "the bus tap" test -e "$RUN_DIR/tap.ready"

# Rehearsal-only: a quiet fake market gets a Kalshi keepalive every second, so its book stays
# within MAX_PRICE_AGE_MS (a live market is rarely that quiet).
for n in 1 2; do
  SHARD_ID="shard-$n" POLYMARKET_VIA_REDIS=true KALSHI_SILENCE_TIMEOUT=3 \
    as_role shard start "shard-$n" "$PY" -m arbees shard
done
MONITOR_ID=rehearsal-monitor EGRESS_CHECK_URL="$GLUETUN_URL/v1/publicip/ip" \
  EGRESS_CHECK_API_KEY_FILE="$SECRETS/gluetun_api_key" EGRESS_CHECK_INTERVAL=5 \
  EGRESS_FORBIDDEN_COUNTRIES=US as_role monitor start monitor "$PY" -m arbees monitor
# Gamma is Polymarket: the orchestrator checks its own route's exit (in compose an
# ipinfo-style URL through Gluetun's proxy; here the fake's ipinfo-style /json).
ORCHESTRATOR_ID=rehearsal-orchestrator SETTLE_DELAY=1 EGRESS_CHECK_URL="$GLUETUN_URL/json" \
  EGRESS_CHECK_API_KEY_FILE="$SECRETS/gluetun_api_key" EGRESS_FORBIDDEN_COUNTRIES=US \
  as_role orchestrator start orchestrator "$PY" -m arbees orchestrator

SERVICES=("orchestrator rehearsal-orchestrator" "monitor rehearsal-monitor"
  "shard shard-1" "shard shard-2")

# Each service's health as its container's HEALTHCHECK reads it: with its own Redis user.
healthy() { as_role "$1" "$PY" -m arbees health --service "$1" --instance "$2" >/dev/null 2>&1; }

for entry in "${SERVICES[@]}"; do
  read -r service instance <<<"$entry"
  wait_until "$STARTUP_TIMEOUT" "$service/$instance to be healthy" healthy "$service" "$instance"
  echo "run-local: $service/$instance healthy"
done
wait_until "$STARTUP_TIMEOUT" "both games assigned, held by the shards and priced" \
  test -e "$RUN_DIR/topology.ready"
echo "run-local: games assigned and priced: $(cat "$RUN_DIR/topology.json" | tr -d '\n ' | cut -c1-300)"

# ----------------------------------------------------------------------------- the move
sleep 1  # a quiet second first: any signal now would be a false positive
kill -USR1 "$VENUES_PID"
wait_until 10 "the price move" grep -q '"moved_ms": [0-9]' "$STATE"
echo "run-local: price move applied; watching for ${DURATION}s (0 = until Ctrl-C)"

seen=0
limit=$((SECONDS + DURATION))
WATCHING=1
while ((!INTERRUPTED)) && { [[ "$DURATION" -eq 0 ]] || ((SECONDS < limit)); }; do
  check_alive
  now=0
  [[ -e "$RUN_DIR/signals.jsonl" ]] && now=$(wc -l <"$RUN_DIR/signals.jsonl")
  if ((now != seen)); then
    echo "run-local: $now signal(s) on arbees:signals"
    seen=$now
  fi
  sleep 0.5 || true  # a Ctrl-C also kills this sleep: not an error here
done
WATCHING=0
((INTERRUPTED)) && echo "run-local: interrupted; judging the run so far"

# ----------------------------------------------------------------------------- verdict
for entry in "${SERVICES[@]}"; do
  read -r service instance <<<"$entry"
  set +e
  text="$(as_role "$service" "$PY" -m arbees health --service "$service" --instance "$instance" 2>&1 | tail -n1)"
  rc=$?
  set -e
  echo "$service $instance $rc $text" >>"$RUN_DIR/health.txt"
done
set +e
"$PY" -m arbees.testing.rehearsal summary --run-dir "$RUN_DIR" --state-file "$STATE"
verdict=$?
set -e
exit "$verdict"
