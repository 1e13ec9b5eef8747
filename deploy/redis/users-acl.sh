#!/bin/sh
# Print Redis's ACL file for the arbees roles, from one password file per role.
#
#   sh deploy/redis/users-acl.sh SECRETS_DIR > users.acl
#
# SECRETS_DIR holds redis_monitor_password, redis_shard_password,
# redis_orchestrator_password and redis_bot_password (one password per file; a trailing
# newline is ignored; at least 16 characters, no whitespace). The file printed stores only
# their SHA-256 hashes ("#..."), so the passwords appear in no config, variable or layer.
# An optional redis_venue_monitor_password adds the venue_monitor role: the monitor of a
# venue other than Polymarket (MONITOR_VENUE=polymarket-us), which reads the shards' game
# assignments and publishes VenueQuotes on quotes:<venue> (no file: no such user).
# The redis container runs this at start (deploy/compose.yaml), deploy/run-local.sh runs it
# for the rehearsal and tests/deploy/test_redis_acl.py proves each role against a real
# redis-server.
#
# Least privilege, from what each service does on the bus (src/arbees/services, obs/health):
# the root of each user may SUBSCRIBE to what the service reads; each "(...)" selector adds
# one kind of write or read on exactly its channels or keys, so a role that may read a
# channel cannot publish on it (Redis 7 channel rules alone cover both). Every arbees bus
# also subscribes to its private arbees:bus:control:<random> channel. Nobody gets KEYS,
# FLUSHALL, CONFIG, ACL, DEBUG, EVAL or any other command not listed.
set -eu

dir="${1:?usage: users-acl.sh SECRETS_DIR}"

hash_of() {  # hash_of ROLE: SHA-256 (hex) of the role's password
  file="$dir/redis_$1_password"
  if [ ! -r "$file" ]; then
    echo "users-acl.sh: cannot read $file" >&2
    exit 1
  fi
  pw="$(cat "$file")"
  case "$pw" in
    *[[:space:]]*) echo "users-acl.sh: $file: the password contains whitespace" >&2; exit 1 ;;
  esac
  if [ "${#pw}" -lt 16 ]; then
    echo "users-acl.sh: $file: the password is shorter than 16 characters" >&2
    exit 1
  fi
  printf '%s' "$pw" | sha256sum | cut -d' ' -f1
}

monitor="$(hash_of monitor)"
shard="$(hash_of shard)"
orchestrator="$(hash_of orchestrator)"
bot="$(hash_of bot)"
venue_monitor=""
if [ -e "$dir/redis_venue_monitor_password" ]; then
  venue_monitor="$(hash_of venue_monitor)"
fi

cat <<ACL
user default off resetpass resetkeys resetchannels -@all
user healthcheck on nopass resetkeys resetchannels -@all +ping
user monitor on #$monitor resetkeys resetchannels -@all +ping +subscribe +unsubscribe &orchestrator:market_assignments &arbees:bus:control:* (+publish &polymarket:prices &arbees:game_states &system:alerts &arbees:service_status) (+hgetall %R~orchestrator:token_assignments) (+hset ~polymarket:latest_prices) (+set +get ~arbees:health:monitor:*)
user shard on #$shard resetkeys resetchannels -@all +ping +subscribe +unsubscribe &orchestrator:market_assignments &polymarket:prices &arbees:game_states &arbees:service_status &arbees:bus:control:* &quotes:* (+publish &arbees:signals &orchestrator:shard_heartbeats &system:alerts &arbees:service_status) (+hgetall %R~orchestrator:game_assignments) (+hget %R~polymarket:latest_prices) (+set +get ~arbees:health:shard:*) (+hget +hgetall %R~quotes:*)
user orchestrator on #$orchestrator resetkeys resetchannels -@all +ping +subscribe +unsubscribe &orchestrator:shard_heartbeats &arbees:bus:control:* (+publish &orchestrator:market_assignments &system:alerts &arbees:service_status) (+hgetall +hset +hdel ~orchestrator:game_assignments ~orchestrator:token_assignments) (+set +get ~arbees:health:orchestrator:*)
user bot on #$bot resetkeys resetchannels -@all +ping +subscribe +unsubscribe &arbees:signals &system:alerts &arbees:bus:control:*
ACL
if [ -n "$venue_monitor" ]; then
  echo "user venue_monitor on #$venue_monitor resetkeys resetchannels -@all +ping +subscribe +unsubscribe &orchestrator:market_assignments &arbees:bus:control:* (+publish &quotes:* &system:alerts &arbees:service_status) (+hgetall %R~orchestrator:game_assignments) (+hset ~quotes:*) (+set +get ~arbees:health:monitor:*)"
fi
