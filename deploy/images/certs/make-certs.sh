#!/bin/sh
# Writes into CERTS_DIR (default /certs): ca.crt, a private CA made here, and server.crt and
# server.key, a certificate that CA signed for every name in CERT_HOSTS (space-separated). The
# CA's own key is deleted once the certificate is signed, so that this CA can never vouch for
# anything else. Kept as they are on the next run while they name the same hosts and have more
# than a day left.
set -eu
dir=${CERTS_DIR:-/certs}
: "${CERT_HOSTS:?CERT_HOSTS must list the host names}"
days=${CERT_DAYS:-30}
mkdir -p "$dir"
chmod 755 "$dir"
cd "$dir"
if [ -s ca.crt ] && [ -s server.crt ] && [ -s server.key ] && [ "$(cat hosts 2>/dev/null)" = "$CERT_HOSTS" ] &&
  openssl x509 -checkend 86400 -noout -in server.crt >/dev/null; then
  echo "certs: keeping the certificate for $CERT_HOSTS"
  exit 0
fi
work=$(mktemp -d)
san=""
for host in $CERT_HOSTS; do san="${san:+$san,}DNS:$host"; done
set -- $CERT_HOSTS
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days "$days" \
  -subj "/CN=jwt-handoff run CA $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
  "$san" >"$work/server.ext"
openssl x509 -req -sha256 -days "$days" -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
  -CAcreateserial -extfile "$work/server.ext" -out "$work/server.crt" 2>/dev/null
# Readable by the services and the e2e runner (user node); the key by nginx's master (root) only.
install -m 644 "$work/ca.crt" "$work/server.crt" .
install -m 600 "$work/server.key" .
printf '%s' "$CERT_HOSTS" >hosts
rm -rf "$work"
echo "certs: a new CA (ca.crt) and a certificate for $CERT_HOSTS, valid $days days"
