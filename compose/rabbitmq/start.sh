#!/usr/bin/env bash
# The RabbitMQ container's entrypoint in docker-compose.yml (mounted read-only; the same in rabbitmq:4.1-management
# and the local stand-in, which both have bash, coreutils and /usr/local/bin/docker-entrypoint.sh).
#
# compose/rabbitmq/definitions.json is generated from the topology and holds no password: each user's password_hash
# is a placeholder `{{password-hash:<user>}}`. This script fills every placeholder with the RabbitMQ hash
# (rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)), 4-byte salt) of that user's password
# in RABBITMQ_PASSWORDS (`user=password user=password ...`, from .env), writes the result where rabbitmq.conf loads
# it from, and starts the broker through the image's own entrypoint. A user without a password stops the start.
# The salt is derived from the user and the password, so the rendered file changes only when a password does, and
# the broker (definitions.skip_if_unchanged) re-imports it exactly then: rotating a password is editing .env and
# restarting this container.
#
# A node of the cluster profile (docker-compose.cluster.yml) is given two more variables:
#   ERLANG_COOKIE      the cluster's shared secret (RABBITMQ_ERLANG_COOKIE of .env), written to the rabbitmq
#                      user's cookie file (mode 0400) before the broker starts, then removed from the environment.
#   RABBITMQ_JOIN_AFTER  hosts (`rabbitmq-1 rabbitmq-2`) whose AMQP listener (5671) this node waits for, at most
#                      RABBITMQ_JOIN_WAIT_S (180 s), on its first boot only (an empty database): so it joins them
#                      instead of forming a cluster of its own. A restarted node does not wait: the nodes of a
#                      cluster that stopped wait for each other by themselves.
#
#   start.sh [ARGS...]             render to /etc/rabbitmq/definitions.json, then docker-entrypoint.sh ARGS
#   start.sh --render IN OUT       only render (the tests use it)
set -euo pipefail

hex_to_binary() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

password_hash() { # user password
  local salt digest
  salt="$(printf 'rabbitmq-salt:%s:%s' "$1" "$2" | sha256sum | cut -c1-8)"
  digest="$({ hex_to_binary "$salt"; printf '%s' "$2"; } | sha256sum | cut -c1-64)"
  { hex_to_binary "$salt"; hex_to_binary "$digest"; } | base64 -w0
}

render() { # template output
  local template="$1" output="$2" sed_args=() credential user
  for credential in ${RABBITMQ_PASSWORDS:?RABBITMQ_PASSWORDS lists user=password for every user of the definitions}; do
    user="${credential%%=*}"
    [[ -n "${credential#*=}" && "$credential" == *=* ]] || { echo "rabbitmq: no password for $user" >&2; exit 1; }
    sed_args+=(-e "s|{{password-hash:${user}}}|$(password_hash "$user" "${credential#*=}")|")
  done
  local rendered
  rendered="$(sed "${sed_args[@]}" "$template")"
  if missing="$(grep -o '{{password-hash:[^}]*}}' <<<"$rendered")"; then
    echo "rabbitmq: RABBITMQ_PASSWORDS has no password for: $(tr '\n' ' ' <<<"$missing")" >&2
    exit 1
  fi
  (umask 077 && printf '%s\n' "$rendered" >"$output")
}

if [ "${1:-}" = --render ]; then
  render "$2" "$3"
  exit 0
fi

write_cookie() { # the cluster's Erlang cookie, for the broker and for the CLI tools (rabbitmq-diagnostics)
  local file=/var/lib/rabbitmq/.erlang.cookie
  rm -f "$file"
  (umask 077 && printf '%s' "$ERLANG_COOKIE" >"$file")
  chown rabbitmq:rabbitmq "$file"
  chmod 400 "$file"
}

wait_to_join() { # on a first boot only: until every host of RABBITMQ_JOIN_AFTER listens on 5671
  local host deadline=$((SECONDS + ${RABBITMQ_JOIN_WAIT_S:-180}))
  [ -z "$(ls -A /var/lib/rabbitmq/mnesia 2>/dev/null)" ] || return 0
  for host in $RABBITMQ_JOIN_AFTER; do
    echo "rabbitmq: first boot: waiting for $host to listen before joining the cluster" >&2
    until timeout 2 bash -c "exec 3<>/dev/tcp/$host/5671" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then
        echo "rabbitmq: $host did not listen within ${RABBITMQ_JOIN_WAIT_S:-180} s; not starting a cluster of my own" >&2
        exit 1
      fi
      sleep 1
    done
  done
}

render /etc/rabbitmq/definitions.template.json /etc/rabbitmq/definitions.json
chown rabbitmq:rabbitmq /etc/rabbitmq/definitions.json
unset RABBITMQ_PASSWORDS
if [ -n "${ERLANG_COOKIE:-}" ]; then write_cookie; fi
unset ERLANG_COOKIE
if [ -n "${RABBITMQ_JOIN_AFTER:-}" ]; then wait_to_join; fi
exec /usr/local/bin/docker-entrypoint.sh "$@"
