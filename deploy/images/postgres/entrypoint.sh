#!/bin/sh
# Starts PostgreSQL as the `postgres` user. On an empty data directory it first creates the
# cluster, with POSTGRES_USER as its superuser (password POSTGRES_PASSWORD, scram-sha-256 over
# the network) and the database POSTGRES_DB. The same on the official image and on Debian's
# package, which is why the official image's own entrypoint is not used.
set -eu
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
: "${POSTGRES_DB:?POSTGRES_DB must be set}"
case "$POSTGRES_USER$POSTGRES_DB" in
  *[!A-Za-z0-9_]*) echo "postgres: POSTGRES_USER and POSTGRES_DB must be letters, digits and _" >&2; exit 1 ;;
esac
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  chown postgres "$pwfile"
  # Local socket connections (this container only) are trusted; everything else needs the password.
  as_postgres initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "CREATE DATABASE $POSTGRES_DB" | as_postgres postgres --single -D "$PGDATA" -j postgres >/dev/null
  echo "postgres: created the cluster and the database $POSTGRES_DB"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
  postgres -D "$PGDATA" -c listen_addresses='*'
