#!/bin/sh
# The official redis image's docker-entrypoint.sh, in the shape the compose file relies on:
# started as root with `redis-server ...`, it gives /data to the redis user and drops to it
# (setpriv from util-linux stands in for the official image's gosu).
set -e
if [ "$1" = "redis-server" ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
