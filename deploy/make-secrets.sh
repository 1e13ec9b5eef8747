#!/bin/sh
# Create the secret files deploy/compose.yaml mounts as Docker secrets; never overwrites one.
#
#   deploy/make-secrets.sh [DIR]        (default: deploy/secrets, which git ignores)
#
# Generated (32 random bytes, hex): redis_monitor_password, redis_shard_password,
# redis_orchestrator_password, redis_bot_password (one Redis ACL user per role, see
# deploy/redis/users-acl.sh) and gluetun_api_key (the monitor's key for Gluetun's control
# server). gluetun_auth.toml, Gluetun's role file, is rewritten from gluetun_api_key on every
# run so the two always match. openvpn_user, openvpn_password and wireguard_private_key are
# created EMPTY for you to fill in (NordVPN service credentials, or the WireGuard key), and
# so is polymarket_us_private_key (a verified Polymarket US account's Ed25519 key, read by
# the shards only when SHARD_VENUES names polymarket-us).
# The Kalshi PEM is yours to copy (KALSHI_PRIVATE_KEY_FILE, default
# deploy/secrets/kalshi_private_key.pem).
#
# Files are mode 0600 in a mode 0711 directory (others may reach a file they know the name
# of, so `docker compose` run by a non-root user can find them, but cannot list or read
# them). The arbees containers run as uid 10001 and read
# the four Redis passwords, gluetun_api_key, polymarket_us_private_key and the Kalshi PEM: run as root, this script
# gives those files to uid 10001; otherwise it prints the command to do so.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-$here/secrets}"
umask 077
mkdir -p "$dir"
chmod 711 "$dir"

random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

create() {  # create NAME VALUE: write DIR/NAME unless it already exists
  if [ -e "$dir/$1" ]; then
    echo "kept     $dir/$1"
  else
    printf '%s\n' "$2" >"$dir/$1"
    echo "created  $dir/$1"
  fi
}

for role in monitor shard orchestrator bot; do
  create "redis_${role}_password" "$(random_hex)"
done
create gluetun_api_key "$(random_hex)"
key="$(cat "$dir/gluetun_api_key")"
case "$key" in
  *[!A-Za-z0-9._~-]*|"") echo "make-secrets.sh: $dir/gluetun_api_key: use [A-Za-z0-9._~-] only" >&2; exit 1 ;;
esac
# Gluetun >= v3.40 refuses every control-server route no role allows: this role allows the
# two read-only routes the egress guard needs, with the monitor's key.
cat >"$dir/gluetun_auth.toml" <<TOML
[[roles]]
name = "arbees-egress-check"
routes = ["GET /v1/publicip/ip", "GET /v1/vpn/status"]
auth = "apikey"
apikey = "$key"
TOML
echo "wrote    $dir/gluetun_auth.toml"
for name in openvpn_user openvpn_password wireguard_private_key; do
  if [ -e "$dir/$name" ]; then
    echo "kept     $dir/$name"
  else
    : >"$dir/$name"
    echo "created  $dir/$name (empty: fill it in if your VPN_TYPE uses it)"
  fi
done

if [ -e "$dir/polymarket_us_private_key" ]; then
  echo "kept     $dir/polymarket_us_private_key"
else
  : >"$dir/polymarket_us_private_key"
  echo "created  $dir/polymarket_us_private_key (empty: your Polymarket US key, if a shard reads it)"
fi

readers="polymarket_us_private_key redis_monitor_password redis_shard_password redis_orchestrator_password redis_bot_password gluetun_api_key"
if [ "$(id -u)" = 0 ]; then
  for name in $readers; do chown 10001 "$dir/$name"; done
  echo "gave the files the arbees containers read to uid 10001"
else
  echo "now give the files the arbees containers read to their user (uid 10001):"
  printf '  sudo chown 10001'
  for name in $readers; do printf ' %s' "$dir/$name"; done
  printf '\n'
fi
