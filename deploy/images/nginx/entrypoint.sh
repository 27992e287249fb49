#!/bin/sh
# Fills deploy/nginx's template from the environment with envsubst (only the template's own
# placeholders: nginx's $variables are left alone), and starts nginx in the foreground.
# NGINX_UPSTREAM_HEADER=on adds upstream-header.conf, which names the answering replica in an
# X-Upstream-Addr response header: for test runs only, it discloses internal addresses.
set -eu
PLACEHOLDERS="SERVER1_HOST SERVER2_HOST HTTPS_PORT HTTP_PORT TLS_CERT_FILE TLS_KEY_FILE
  SERVER1_REPLICA_1 SERVER1_REPLICA_2 SERVER2_REPLICA_1 SERVER2_REPLICA_2"
missing=""
for name in $PLACEHOLDERS; do
  eval "[ -n \"\${$name:-}\" ]" || missing="$missing $name"
done
if [ -n "$missing" ]; then
  echo "nginx: cannot start: set$missing (see deploy/nginx/jwt-handoff.conf.template)" >&2
  exit 1
fi
envsubst "$(for name in $PLACEHOLDERS; do printf '${%s} ' "$name"; done)" \
  </etc/nginx/jwt-handoff/jwt-handoff.conf.template >/etc/nginx/conf.d/jwt-handoff.conf
case "${NGINX_UPSTREAM_HEADER:-off}" in
  on) cp /etc/nginx/jwt-handoff/upstream-header.conf /etc/nginx/conf.d/jwt-handoff-upstream-header.conf ;;
  off) rm -f /etc/nginx/conf.d/jwt-handoff-upstream-header.conf ;;
  *) echo "nginx: cannot start: NGINX_UPSTREAM_HEADER must be on or off" >&2; exit 1 ;;
esac
exec nginx -g 'daemon off;'
