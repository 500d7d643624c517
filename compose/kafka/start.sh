#!/usr/bin/env bash
# The Kafka container's entrypoint in docker-compose.yml (mounted read-only; the same in apache/kafka and the local
# stand-in, which both have java and /opt/kafka/libs). It writes the broker's properties from the KAFKA_* variables
# (the prefix dropped, lower case, `_` → `.`, `__` → `_`, `___` → `-`), formats an empty log directory with the SCRAM
# credentials of every principal in SCRAM_CREDENTIALS (`name=password name=password ...`: the broker logs in as the
# admin before it can read any credential from its metadata, so they must be in the storage from the start),
# writes the admin's client settings for the healthcheck, then runs the broker.
set -euo pipefail
umask 077
config=/tmp/kafka/server.properties
mkdir -p /tmp/kafka
: >"$config"
while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS | KAFKA_GC_LOG_OPTS | KAFKA_JMX_OPTS | KAFKA_VERSION | KAFKA_HOME) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key="${name#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/@}"
  key="${key//_/.}"
  key="${key//@/_}"
  printf '%s=%s\n' "$key" "$value" >>"$config"
done < <(env)

admin="${ADMIN_PRINCIPAL:?ADMIN_PRINCIPAL names the admin principal}"
admin_password=''
scram=()
for credential in ${SCRAM_CREDENTIALS:?SCRAM_CREDENTIALS lists name=password per principal}; do
  scram+=(--add-scram "SCRAM-SHA-256=[name=${credential%%=*},password=${credential#*=}]")
  [[ "${credential%%=*}" == "$admin" ]] && admin_password="${credential#*=}"
done
[[ -n "$admin_password" ]] || { echo "kafka: SCRAM_CREDENTIALS has no password for the admin '$admin'" >&2; exit 1; }
# The admin's client settings speak the CLIENTS listener's protocol (SASL_SSL in docker-compose.yml: then the CA the
# broker trusts is the one its clients check it against).
protocol="$(sed -n 's/^listener\.security\.protocol\.map=.*CLIENTS:\([A-Z_]*\).*/\1/p' "$config")"
{
  printf '%s\n' "security.protocol=${protocol:-SASL_PLAINTEXT}" 'sasl.mechanism=SCRAM-SHA-256' \
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$admin\" password=\"$admin_password\";"
  if [[ "$protocol" == SASL_SSL ]]; then
    printf '%s\n' 'ssl.truststore.type=PEM' "ssl.truststore.location=$(sed -n 's/^ssl\.truststore\.location=//p' "$config")"
  fi
} >/tmp/kafka/admin.properties

classpath='/opt/kafka/libs/*'
log_dirs="$(sed -n 's/^log\.dirs=//p' "$config")"
log_dirs="${log_dirs:-/var/lib/kafka/data}"
if [ ! -f "${log_dirs%%,*}/meta.properties" ]; then
  : "${CLUSTER_ID:?CLUSTER_ID must be set to format an empty log directory}"
  java -cp "$classpath" kafka.tools.StorageTool format --ignore-formatted -t "$CLUSTER_ID" -c "$config" "${scram[@]}"
fi
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp "$classpath" kafka.Kafka "$config"
