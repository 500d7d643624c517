#!/bin/bash
# KAFKA_* variables become server properties as in the upstream image: the prefix dropped, lower case, `_` → `.`,
# `__` → `_`, `___` → `-`; the JVM option variables are left to the JVM. CLUSTER_ID formats an empty log directory.
set -euo pipefail
config=/opt/kafka/config/server.properties
: >"$config"
while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS | KAFKA_GC_LOG_OPTS | KAFKA_JMX_OPTS | KAFKA_VERSION) continue ;;
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
log_dirs="$(sed -n 's/^log\.dirs=//p' "$config")"
log_dirs="${log_dirs:-/var/lib/kafka/data}"
classpath='/opt/kafka/libs/*'
if [ ! -f "${log_dirs%%,*}/meta.properties" ]; then
  : "${CLUSTER_ID:?CLUSTER_ID must be set to format an empty log directory}"
  java -cp "$classpath" kafka.tools.StorageTool format --ignore-formatted -t "$CLUSTER_ID" -c "$config"
fi
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp "$classpath" kafka.Kafka "$config"
