#!/usr/bin/env bash
# scripts/containers.sh test|up|down — the stack of docker-compose.yml in containers, on this machine, beside the
# native stack (./stack containers ...; docs/running-with-docker.md).
#   test  install Docker if missing, start an engine if none runs, build every image locally (the Dockerfile's
#         targets and the stand-ins of compose/local-images), start the stack, run the container tests against it,
#         then remove its containers, networks and volumes (built images stay cached) and stop the engine if this
#         script started it.
#   up    the same up to a running stack (left running; stop it with `down`).
#   down  remove the stack's containers, networks and volumes; stop the engine if this project started it.
# Host ports are moved (RabbitMQ amqps 45672, PostgreSQL 45432, Kafka 49092, services 43001-43006, console 43007, ...),
# so the native stack keeps its own. Docker's image store is outside the clone ($CACHE_DIR/docker): a fresh clone
# reuses the images.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CACHE_DIR="${ASYNC_MESSAGING_CACHE:-/var/cache/async-messaging}"
RUN_DIR="$ROOT/.run/containers"
PROJECT=am-containers
ENGINE_PID_FILE=/run/async-messaging-docker.pid
ENGINE_MARK="$CACHE_DIR/engine-started-by-project"
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
say() { printf 'containers: %s\n' "$*"; }
step() { printf '\n== containers: %s\n' "$*"; }

# The moved host ports (docker-compose.yml reads <NAME>_HOST_PORT).
export RABBITMQ_HOST_PORT=45672 RABBITMQ_MANAGEMENT_HOST_PORT=45673 KAFKA_HOST_PORT=49092 POSTGRES_HOST_PORT=45432 \
  SMTP_HOST_PORT=41025 MAILPIT_HOST_PORT=48025 ORDERS_HOST_PORT=43001 INVENTORY_HOST_PORT=43002 \
  PAYMENTS_HOST_PORT=43003 EMAIL_HOST_PORT=43004 ANALYTICS_HOST_PORT=43005 AUDIT_HOST_PORT=43006 \
  CONSOLE_HOST_PORT=43007 PROMETHEUS_HOST_PORT=49090 GRAFANA_HOST_PORT=43000 JAEGER_HOST_PORT=46686 \
  OTLP_GRPC_HOST_PORT=44317 OTLP_HTTP_HOST_PORT=44318
export CONTAINER_PROJECT="$PROJECT" CONTAINER_ENV_FILE="$RUN_DIR/.env"

ensure_docker() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]} from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$RUN_DIR/apt.log" 2>&1 ||
      { say "apt-get install failed; see $RUN_DIR/apt.log"; tail -n 20 "$RUN_DIR/apt.log"; exit 1; }
  fi
}

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

ensure_engine() {
  if engine_up; then say "Docker engine: running ($(docker info -f '{{.ServerVersion}}' 2>/dev/null))"; return; fi
  step "starting a Docker engine (image store $CACHE_DIR/docker)"
  mkdir -p "$CACHE_DIR/docker"
  nohup dockerd --data-root "$CACHE_DIR/docker" --exec-root /run/async-messaging-docker \
    --pidfile "$ENGINE_PID_FILE" >"$CACHE_DIR/dockerd.log" 2>&1 &
  local deadline=$((SECONDS + 60))
  until engine_up; do
    [ $SECONDS -lt $deadline ] || { say "dockerd did not start; see $CACHE_DIR/dockerd.log"; tail -n 20 "$CACHE_DIR/dockerd.log"; exit 1; }
    sleep 0.5
  done
  touch "$ENGINE_MARK"
  say "Docker engine: started ($(docker info -f '{{.ServerVersion}}'))"
}

stop_engine_if_ours() {
  [ -f "$ENGINE_MARK" ] || return 0
  rm -f "$ENGINE_MARK"
  local pid; pid="$(cat "$ENGINE_PID_FILE" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  # Only the engine this project started (a stale pid file must not stop anything else).
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- '--exec-root /run/async-messaging-docker' || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  say "Docker engine: stopped (this project had started it)"
}

# Compose 1.29 (Debian's) rejects the top-level `name:` that Compose v2 reads: it gets a copy without it and the
# project name on the command line. Relative paths still resolve against the repository (--project-directory).
compose() {
  mkdir -p "$RUN_DIR"
  grep -v '^name: ' docker-compose.yml >"$RUN_DIR/docker-compose.yml"
  docker-compose -p "$PROJECT" --project-directory "$ROOT" --env-file "$ENV_FILE" -f "$RUN_DIR/docker-compose.yml" \
    -f compose/local-images/override.yml "$@"
}

# The stack's passwords: its own .env (never the developer's), random, written by scripts/compose-env.sh the way a
# user's is; kept while the stack exists (the volumes were formatted with them), replaced when it is removed.
ENV_FILE="$RUN_DIR/.env"
ensure_env_file() {
  [ -f "$ENV_FILE" ] || scripts/compose-env.sh "$ENV_FILE" | sed 's/^/  /'
}

quiet_build() { # the classic builder's deprecation notice, once per image, is noise here (pipefail keeps the status)
  "$@" 2>&1 | sed -E '/^(DEPRECATED|            BuildKit|            environment-variable|)$/d; /^            (BuildKit|environment-variable)/d; /^DEPRECATED/d'
}

build_images() {
  local t0=$SECONDS
  step "base image and stand-ins (compose/local-images/build)"
  quiet_build compose/local-images/build
  step "the Dockerfile's targets (docker-compose build: the six services, the console and the topology job)"
  compose build >"$RUN_DIR/compose-build.log" 2>&1 ||
    { say "docker-compose build failed; the end of $RUN_DIR/compose-build.log:"; tail -n 40 "$RUN_DIR/compose-build.log"; exit 1; }
  sed -n -E 's/^Successfully tagged /  built /p' "$RUN_DIR/compose-build.log"
  # The Mailpit stand-in is built from the email image.
  quiet_build compose/local-images/build | sed -n '/mailpit/p'
  say "images built in $((SECONDS - t0)) s"
}

stack_up() {
  local t0=$SECONDS
  step "starting the stack (docker-compose up; healthchecks and start order as in docker-compose.yml)"
  compose up -d --no-build 2>&1 | sed -E '/^\s*$/d; /\.\.\. $/d; s/^/  /'
  local deadline=$((SECONDS + 300)) unhealthy
  for s in orders inventory payments email analytics audit console; do
    until [ "$(docker inspect -f '{{.State.Health.Status}}' "${PROJECT}_${s}_1" 2>/dev/null)" = healthy ]; do
      if [ $SECONDS -ge $deadline ]; then
        say "$s is not healthy after 300 s; its last log lines:"; docker logs --tail 30 "${PROJECT}_${s}_1" 2>&1 || true
        exit 1
      fi
      sleep 1
    done
  done
  say "stack healthy in $((SECONDS - t0)) s: services on 127.0.0.1:43001-43006, console 43007, RabbitMQ amqps 45672 (UI 45673), PostgreSQL 45432, Kafka 49092, mail 48025"
}

stack_down() {
  if engine_up; then
    step "removing the stack's containers, networks and volumes"
    [ -f "$ENV_FILE" ] || scripts/compose-env.sh "$ENV_FILE" >/dev/null
    compose --profile upstream-only down -v --remove-orphans 2>&1 | sed -E '/^\s*$/d; /\.\.\. $/d; s/^/  /' || true
  fi
  rm -f "$ENV_FILE"
}

mkdir -p "$RUN_DIR"
case "${1:-}" in
  test)
    started=$SECONDS
    ensure_docker
    ensure_engine
    trap 'stack_down; stop_engine_if_ours' EXIT
    stack_down
    ensure_env_file
    build_images
    stack_up
    step "container tests (vitest --project containers)"
    # The tests sign their tokens with the key pair the stack's auth-keys job generated (orders holds it).
    rm -rf "$RUN_DIR/container-keys"
    docker cp "${PROJECT}_orders_1:/var/lib/async-messaging/auth/signing/pair" "$RUN_DIR/container-keys"
    # ... and trust the CA its tls-certs job made: both brokers speak TLS only.
    docker cp "${PROJECT}_orders_1:/etc/async-messaging/tls/ca.crt" "$RUN_DIR/ca.crt"
    CONTAINER_CA_FILE="$RUN_DIR/ca.crt" NODE_EXTRA_CA_CERTS="$RUN_DIR/ca.crt" \
      TEST_AUTH_KEYS_DIR="$RUN_DIR/container-keys" npx vitest run --project containers
    say "container tier passed in $((SECONDS - started)) s"
    # Images of earlier builds that no tag names any more (the tagged ones stay cached for the next run).
    docker image prune -f >/dev/null 2>&1 || true
    ;;
  up)
    ensure_docker
    ensure_engine
    ensure_env_file
    build_images
    stack_up
    ;;
  down)
    stack_down
    stop_engine_if_ours
    ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 1
    ;;
esac
