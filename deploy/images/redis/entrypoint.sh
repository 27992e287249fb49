#!/bin/sh
# Starts redis-server as the `redis` user with a password (REDIS_PASSWORD), listening on every
# address, and its append-only file in /data: server2's sessions and revocations outlive a
# restart of Redis. The configuration is given on standard input, so the password is in no file
# and in no process's arguments.
set -eu
: "${REDIS_PASSWORD:?REDIS_PASSWORD must be set}"
mkdir -p /data
chown redis:redis /data
exec setpriv --reuid=redis --regid=redis --init-groups -- redis-server - <<CONF
bind * -::*
port 6379
requirepass $REDIS_PASSWORD
dir /data
appendonly yes
save ""
CONF
