# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this file
# Shared helpers for infra/up, infra/down and infra/status. Sourced, never run.
#
# Conventions: every message starts with the component name ("kafka: ..."); errors go to stderr, name what failed
# and the log file to read, and exit non-zero. Every wait has a bound.

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_DIR/.." && pwd)"
CACHE_DIR="$REPO_ROOT/.cache"

# --- machine secrets ---------------------------------------------------------------------------------------------
# One file per secret, outside every checkout, shared by all checkouts on this machine (they share the brokers).
# libs/messaging/src/secrets.ts resolves the same directory.
SECRETS_DIR="${MESSAGING_SECRETS_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/async-messaging/secrets}"
# machine_secret NAME : prints the secret, generating 24 random bytes (base64url) on first use.
machine_secret() {
  local file="$SECRETS_DIR/$1" tmp
  if [[ ! -s "$file" ]]; then
    (umask 077 && mkdir -p "$SECRETS_DIR")
    tmp="$(mktemp "$SECRETS_DIR/.new.XXXXXX")"
    head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$tmp"
    printf '\n' >>"$tmp"
    chmod 600 "$tmp"
    # Exclusive: if another process created it meanwhile, its value wins.
    ln "$tmp" "$file" 2>/dev/null || true
    rm -f "$tmp"
  fi
  tr -d '\n' <"$file"
}

# --- TLS ---------------------------------------------------------------------------------------------------------
# The machine's certificate authority and the brokers' certificate (scripts/tls-certs.sh), beside the secrets:
# $TLS_DIR/ca (the CA's key, mode 0700), $TLS_DIR/server (the brokers' key and certificate), $TLS_DIR/ca.crt (what
# clients trust: RABBITMQ_CA_FILE, KAFKA_CA_FILE). libs/messaging/src/secrets.ts resolves the same directory.
TLS_DIR="${MESSAGING_TLS_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/async-messaging/tls}"
# tls_certs : makes the CA and the server certificate when missing or stale, quietly when nothing changed.
tls_certs() {
  local out
  out="$("$REPO_ROOT/scripts/tls-certs.sh" "$TLS_DIR/ca" "$TLS_DIR/server" "$TLS_DIR")" ||
    die tls "scripts/tls-certs.sh failed: $out"
  grep -v '(already)' <<<"$out" | sed 's/^tls-certs: /tls: /' || true
}

# --- settings (env overrides) ------------------------------------------------------------------------------------
RABBITMQ_HOST=127.0.0.1
RABBITMQ_PORT="${RABBITMQ_PORT:-5672}"
# amqps, beside the plain listener (an option: RABBITMQ_URL=amqps://…:5671/… with RABBITMQ_CA_FILE=$TLS_DIR/ca.crt).
RABBITMQ_TLS_PORT="${RABBITMQ_TLS_PORT:-5671}"
RABBITMQ_TLS_DIR=/etc/rabbitmq/async-messaging-tls
RABBITMQ_MGMT_PORT="${RABBITMQ_MGMT_PORT:-15672}"
RABBITMQ_ADMIN_USER="${RABBITMQ_ADMIN_USER:-messaging-admin}"
# The admin's password: this machine's secret unless given (the provisioner and the tests read the same file).
RABBITMQ_ADMIN_PASSWORD="${RABBITMQ_ADMIN_PASSWORD:-$(machine_secret rabbitmq-"$RABBITMQ_ADMIN_USER")}"
RABBITMQ_START_TIMEOUT="${RABBITMQ_START_TIMEOUT:-90}"

PG_HOST=127.0.0.1
PG_PORT="${PG_PORT:-5432}"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-60}"
PG_SERVICES=(orders inventory payments email analytics audit)
PG_MAX_CONNECTIONS="${PG_MAX_CONNECTIONS:-400}"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# SASL_SSL, beside the SASL_PLAINTEXT listener (an option: KAFKA_BROKERS=127.0.0.1:9094 with KAFKA_CA_FILE).
KAFKA_TLS_PORT="${KAFKA_TLS_PORT:-9094}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_FETCH_TIMEOUT="${KAFKA_FETCH_TIMEOUT:-900}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_POM="$INFRA_DIR/kafka/pom.xml"
# Single source of truth for the version: the property in the pom.
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n 1)"
KAFKA_HOME="$CACHE_DIR/kafka"
KAFKA_DIST="$KAFKA_HOME/$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_DIST/libs"
KAFKA_FETCH_MARKER="$KAFKA_DIST/.fetch-complete"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_CLUSTER_ID_FILE="$KAFKA_HOME/cluster-id"
KAFKA_PROPS="$KAFKA_HOME/server.properties"
KAFKA_PID_FILE="$KAFKA_HOME/kafka.pid"
KAFKA_LOG="$KAFKA_HOME/server.log"
KAFKA_FETCH_LOG="$KAFKA_HOME/fetch.log"
KAFKA_FORMAT_LOG="$KAFKA_HOME/format.log"
KAFKA_PROBE_LOG="$KAFKA_HOME/probe.log"
# The admin principal's client settings for the command-line tools (rendered by infra/up, mode 0600).
KAFKA_ADMIN_CONFIG="$KAFKA_HOME/admin.properties"
# SCRAM principals: the admin (provisioning and tools, a super user) and one per service. The broker's own
# controller connection logs in as `controller` (PLAIN, from the broker's properties; KRaft cannot use SCRAM there).
KAFKA_ADMIN_PRINCIPAL=messaging-admin
KAFKA_PRINCIPALS=("$KAFKA_ADMIN_PRINCIPAL" orders inventory payments email analytics audit)
# Which principals' passwords the storage was formatted with (or later set to): `name sha256(password)` lines.
KAFKA_SCRAM_MARKER="$KAFKA_DATA/.infra-scram"


# --- output ------------------------------------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
# die COMPONENT MESSAGE [LOGFILE]
die() {
  local component="$1" msg="$2" logfile="${3:-}"
  printf '%s: ERROR: %s\n' "$component" "$msg" >&2
  if [[ -n "$logfile" ]]; then
    printf '%s: read the log: %s\n' "$component" "$logfile" >&2
    if [[ -r "$logfile" ]]; then
      printf '%s: last lines of %s:\n' "$component" "$logfile" >&2
      tail -n 15 "$logfile" | sed 's/^/    /' >&2
    fi
  fi
  exit 1
}

now_ns() { date +%s%N; }
# elapsed START_NS -> "6.2 s"
elapsed() {
  local ms=$(( ($(now_ns) - $1) / 1000000 ))
  printf '%d.%d s' $((ms / 1000)) $(((ms % 1000) / 100))
}

# wait_until TIMEOUT_S INTERVAL_S CMD... : run CMD until it succeeds or TIMEOUT_S have passed. Returns 1 on timeout.
wait_until() {
  local timeout="$1" interval="$2"
  shift 2
  local deadline=$(( $(date +%s) + timeout ))
  while true; do
    if "$@"; then return 0; fi
    if (( $(date +%s) >= deadline )); then return 1; fi
    sleep "$interval"
  done
}

# --- ports -------------------------------------------------------------------------------------------------------
# port_listeners PORT : the `ss -ltnp` lines listening on PORT (any address), empty if free.
port_listeners() {
  ss -Hltnp "( sport = :$1 )" 2>/dev/null || true
}
port_in_use() { [[ -n "$(port_listeners "$1")" ]]; }
# True when the management port listens, and only on 127.0.0.1.
rabbitmq_mgmt_on_loopback() {
  local addresses
  addresses="$(ss -ltnH "( sport = :$RABBITMQ_MGMT_PORT )" | awk '{print $4}')"
  [[ -n "$addresses" ]] && ! grep -qv '^127\.0\.0\.1:' <<<"$addresses"
}
# port_pids PORT : pids of the processes listening on PORT, one per line.
port_pids() {
  port_listeners "$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}
# port_owner PORT : human description of who listens on PORT, e.g. `python3 (pid 1234: python3 -m http.server 9092)`.
port_owner() {
  local line procs pid cmd
  line="$(port_listeners "$1")"
  [[ -z "$line" ]] && { printf 'nobody'; return; }
  procs="$(grep -o '(("[^)]*)' <<<"$line" | head -n 1 | sed 's/((//')"
  pid="$(port_pids "$1" | head -n 1)"
  if [[ -z "$pid" ]]; then
    printf 'an unknown process (ss shows no owner; listening: %s)' "$(awk '{print $4}' <<<"$line" | tr '\n' ' ')"
    return
  fi
  cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-120)"
  printf '%s (pid %s: %s)' "$(tr -d '"' <<<"${procs%%,*}")" "$pid" "${cmd% }"
}
# port_owned_by PORT REGEX : true if a process whose name matches REGEX (ss's users:(("name",...))) listens on PORT.
port_owned_by() {
  port_listeners "$1" | grep -Eq "\(\(\"($2)\""
}

# --- packages ----------------------------------------------------------------------------------------------------
APT_UPDATED=0
# apt_install COMPONENT PACKAGE... (only called when a binary is absent)
apt_install() {
  local component="$1"
  shift
  local log="$CACHE_DIR/apt-$component.log"
  mkdir -p "$CACHE_DIR"
  if [[ $EUID -ne 0 ]]; then
    die "$component" "package(s) $* are not installed and installing needs root: run 'sudo apt-get install -y $*'"
  fi
  say "$component: installing $* with apt-get (log: $log)"
  export DEBIAN_FRONTEND=noninteractive
  if (( APT_UPDATED == 0 )); then
    timeout 600 apt-get update >>"$log" 2>&1 || die "$component" "apt-get update failed or timed out" "$log"
    APT_UPDATED=1
  fi
  timeout 900 apt-get install -y "$@" >>"$log" 2>&1 || die "$component" "apt-get install -y $* failed or timed out" "$log"
}

# --- kafka process identity --------------------------------------------------------------------------------------
# is_our_kafka PID : PID is alive and is `kafka.Kafka` started on this checkout's rendered properties.
is_our_kafka() {
  local pid="$1" cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  [[ "$cmd" == *" kafka.Kafka $KAFKA_PROPS"* ]]
}
# kafka_pid : prints the pid of our running Kafka (pid file first, then a process search on our exact properties path,
# in case the pid file was lost). Returns 1 if none.
kafka_pid() {
  local pid
  if [[ -r "$KAFKA_PID_FILE" ]]; then
    pid="$(tr -dc '0-9' <"$KAFKA_PID_FILE")"
    if is_our_kafka "$pid"; then printf '%s' "$pid"; return 0; fi
  fi
  for pid in $(pgrep -f -- "kafka.Kafka $KAFKA_PROPS" 2>/dev/null || true); do
    if is_our_kafka "$pid"; then printf '%s' "$pid"; return 0; fi
  done
  return 1
}

# kafka_fetch : the Kafka jars of the pom's version from Maven Central (once per checkout), with mvn.
kafka_fetch() {
  local c=kafka t0 tmp n
  if [[ -f "$KAFKA_FETCH_MARKER" ]] && compgen -G "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
    n="$(find "$KAFKA_LIBS" -name '*.jar' | wc -l)"
    say "$c: $KAFKA_VERSION jars present (already): $n in ${KAFKA_LIBS#"$REPO_ROOT"/}"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || apt_install "$c" maven
  t0="$(now_ns)"
  tmp="$KAFKA_DIST/libs.partial"
  rm -rf "$tmp" "$KAFKA_LIBS"
  mkdir -p "$KAFKA_DIST"
  timeout "$KAFKA_FETCH_TIMEOUT" mvn -B -ntp -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$KAFKA_FETCH_LOG" 2>&1 ||
    die "$c" "fetching the Kafka $KAFKA_VERSION jars from Maven Central with mvn failed or took over $KAFKA_FETCH_TIMEOUT s" "$KAFKA_FETCH_LOG"
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" && -f "$tmp/kafka-tools-$KAFKA_VERSION.jar" ]] ||
    die "$c" "mvn succeeded but kafka_2.13-$KAFKA_VERSION.jar / kafka-tools-$KAFKA_VERSION.jar are missing from $tmp" "$KAFKA_FETCH_LOG"
  mv "$tmp" "$KAFKA_LIBS"
  n="$(find "$KAFKA_LIBS" -name '*.jar' | wc -l)"
  printf 'kafka %s: %s jars fetched %s\n' "$KAFKA_VERSION" "$n" "$(date -Is)" >"$KAFKA_FETCH_MARKER"
  say "$c: fetched $KAFKA_VERSION from Maven Central in $(elapsed "$t0"): $n jars in ${KAFKA_LIBS#"$REPO_ROOT"/}"
}

# kafka_stop : stops our broker (SIGTERM, SIGKILL after KAFKA_STOP_TIMEOUT s). The caller holds the infra lock.
kafka_stop() {
  local pid t0
  if pid="$(kafka_pid)"; then
    t0="$(now_ns)"
    kill -TERM "$pid" 2>/dev/null || true
    if wait_until "$KAFKA_STOP_TIMEOUT" 0.5 not_alive "$pid"; then
      say "kafka: stopped in $(elapsed "$t0") (pid $pid, SIGTERM)"
    else
      warn "kafka: pid $pid still running $KAFKA_STOP_TIMEOUT s after SIGTERM; sending SIGKILL (log: $KAFKA_LOG)"
      kill -KILL "$pid" 2>/dev/null || true
      wait_until 10 0.5 not_alive "$pid" || die kafka "pid $pid survived SIGKILL for 10 s" "$KAFKA_LOG"
      say "kafka: killed after $(elapsed "$t0") (pid $pid, SIGKILL after SIGTERM timed out)"
    fi
  else
    say "kafka: not running (already)"
  fi
  rm -f "$KAFKA_PID_FILE"
}
not_alive() { ! kill -0 "$1" 2>/dev/null; }

# Command prefix to run a Kafka command-line class quietly (tool logging at WARN to stderr), usable with `timeout`:
#   timeout 20 "${KAFKA_TOOL[@]}" org.apache.kafka.tools.TopicCommand --list ...
KAFKA_TOOL=(java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
  "-Dlog4j2.configurationFile=$INFRA_DIR/kafka/tools-log4j2.properties" -cp "$KAFKA_LIBS/*")
# kafka_admin_config : writes the admin's client settings for the tools (SASL/SCRAM as the admin principal).
kafka_admin_config() {
  local password
  password="$(machine_secret "kafka-$KAFKA_ADMIN_PRINCIPAL")"
  mkdir -p "$KAFKA_HOME"
  (
    umask 077
    printf '%s\n' 'security.protocol=SASL_PLAINTEXT' 'sasl.mechanism=SCRAM-SHA-256' \
      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$KAFKA_ADMIN_PRINCIPAL\" password=\"$password\";" \
      >"$KAFKA_ADMIN_CONFIG.tmp"
  )
  mv "$KAFKA_ADMIN_CONFIG.tmp" "$KAFKA_ADMIN_CONFIG"
}
# The broker serves metadata to the admin principal (so it is up, and it knows this machine's admin password).
kafka_ready() {
  [[ -f "$KAFKA_ADMIN_CONFIG" ]] || kafka_admin_config
  timeout 20 "${KAFKA_TOOL[@]}" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$KAFKA_ADMIN_CONFIG" --list >"$KAFKA_PROBE_LOG" 2>&1
}

# --- rabbitmq / postgres probes ----------------------------------------------------------------------------------
rabbitmq_log_file() {
  local f newest=""
  for f in /var/log/rabbitmq/rabbit@*.log; do
    [[ -f "$f" && "$f" != *_upgrade.log ]] || continue
    [[ -z "$newest" || "$f" -nt "$newest" ]] && newest="$f"
  done
  printf '%s' "${newest:-/var/log/rabbitmq/ (rabbit@<host>.log)}"
}
# HTTP status of a management API path ("000" when nothing answers). Args: PATH [USER PASSWORD]
rabbitmq_api_code() {
  local path="$1" user="${2:-}" pass="${3:-}"
  local args=(-s -o /dev/null -w '%{http_code}' --max-time 5)
  [[ -n "$user" ]] && args+=(-u "$user:$pass")
  curl "${args[@]}" "http://$RABBITMQ_HOST:$RABBITMQ_MGMT_PORT$path" 2>/dev/null || true
}
rabbitmq_api_get() {
  curl -s --max-time 5 -u "$RABBITMQ_ADMIN_USER:$RABBITMQ_ADMIN_PASSWORD" \
    "http://$RABBITMQ_HOST:$RABBITMQ_MGMT_PORT$1" 2>/dev/null || true
}
rabbitmq_mgmt_answers() {
  local code
  code="$(rabbitmq_api_code /api/overview)"
  [[ "$code" == 200 || "$code" == 401 ]]
}
pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3 >/dev/null 2>&1; }
pg_log_file() {
  local f
  f="$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p {print $7; exit}')"
  printf '%s' "${f:-/var/log/postgresql/}"
}

# PSQL: command prefix for a superuser psql session (set by pg_choose_client). Tries TCP as postgres (trust, as on
# these machines), then, as root, peer authentication over the Unix socket (a fresh Debian install).
PSQL=()
pg_choose_client() {
  if psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -w -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    PSQL=(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -w -v ON_ERROR_STOP=1 -Atq)
  elif [[ $EUID -eq 0 ]] && runuser -u postgres -- env -C / psql -p "$PG_PORT" -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    PSQL=(runuser -u postgres -- env -C / psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -Atq)
  else
    return 1
  fi
}
