#!/usr/bin/env bash
# scripts/tls-certs.sh CA_DIR SERVER_DIR TRUST_DIR — the local certificate authority and the brokers' certificate
# (docs/security.md#tls). Run natively by infra/up and in compose by the one-shot `tls-certs` job; needs bash and
# openssl only.
#   CA_DIR      ca.key (mode 600) and ca.crt: made once, kept; nothing but this script reads the key.
#   SERVER_DIR  server.key, server.crt (signed by the CA), server.pem (key then certificate: Kafka's PEM keystore)
#               and ca.crt: for the brokers. Made again when missing, when it does not name every host of
#               TLS_SERVER_NAMES, or when it expires within 30 days.
#   TRUST_DIR   ca.crt alone: for the clients (services, jobs, tests), which verify the brokers' certificate.
# TLS_SERVER_NAMES: the certificate's subject alternative names (default: the compose and the native host names).
# The key files are made readable by everyone in SERVER_DIR when TLS_SERVER_KEY_MODE says so (compose: the broker
# images run as different users; only the two brokers mount that volume).
set -euo pipefail
ca_dir="${1:?usage: tls-certs.sh CA_DIR SERVER_DIR TRUST_DIR}" server_dir="${2:?SERVER_DIR}" trust_dir="${3:?TRUST_DIR}"
names="${TLS_SERVER_NAMES:-DNS:rabbitmq,DNS:kafka,DNS:localhost,IP:127.0.0.1,IP:::1}"
key_mode="${TLS_SERVER_KEY_MODE:-600}"
days_ca=3650 days_server=825
say() { printf 'tls-certs: %s\n' "$*"; }

mkdir -p "$ca_dir" "$server_dir" "$trust_dir"
chmod 700 "$ca_dir"
if [ ! -s "$ca_dir/ca.key" ] || [ ! -s "$ca_dir/ca.crt" ]; then
  (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$ca_dir/ca.key" 2>/dev/null)
  openssl req -x509 -new -key "$ca_dir/ca.key" -sha256 -days "$days_ca" -subj '/CN=async-messaging local CA' \
    -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -out "$ca_dir/ca.crt"
  rm -f "$server_dir/server.crt"
  say "certificate authority made: $ca_dir/ca.crt"
fi

current() { # the server certificate exists, is the CA's, names every host and lasts 30 more days
  [ -s "$server_dir/server.crt" ] && [ -s "$server_dir/server.key" ] || return 1
  openssl verify -CAfile "$ca_dir/ca.crt" "$server_dir/server.crt" >/dev/null 2>&1 || return 1
  openssl x509 -in "$server_dir/server.crt" -noout -checkend $((30 * 86400)) >/dev/null || return 1
  local have name
  have="$(openssl x509 -in "$server_dir/server.crt" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ')"
  have="${have//IPAddress:/IP:}"
  for name in ${names//,/ }; do
    [[ ",$have," == *",$name,"* || ( $name == IP:::1 && ",$have," == *",IP:0:0:0:0:0:0:0:1,"* ) ]] || return 1
  done
}

if current; then
  say "server certificate current (already): $server_dir/server.crt"
else
  (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$server_dir/server.key" 2>/dev/null)
  openssl req -new -key "$server_dir/server.key" -subj '/CN=async-messaging brokers' -out "$server_dir/server.csr"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$names" >"$server_dir/server.ext"
  openssl x509 -req -in "$server_dir/server.csr" -CA "$ca_dir/ca.crt" -CAkey "$ca_dir/ca.key" -CAcreateserial \
    -days "$days_server" -sha256 -extfile "$server_dir/server.ext" -out "$server_dir/server.crt" 2>/dev/null
  rm -f "$server_dir/server.csr" "$server_dir/server.ext" "$ca_dir/ca.srl"
  # Kafka's PEM keystore: the private key (PKCS#8, as genpkey writes it) followed by the certificate.
  (umask 077 && cat "$server_dir/server.key" "$server_dir/server.crt" >"$server_dir/server.pem")
  say "server certificate made for $names: $server_dir/server.crt"
fi
chmod "$key_mode" "$server_dir/server.key" "$server_dir/server.pem"
cp "$ca_dir/ca.crt" "$server_dir/ca.crt"
cp "$ca_dir/ca.crt" "$trust_dir/ca.crt"
chmod 644 "$server_dir/server.crt" "$server_dir/ca.crt" "$trust_dir/ca.crt"
