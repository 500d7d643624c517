# shellcheck shell=bash disable=SC2034 # variables are used by infra/cluster and the unit test
# Settings and generated configuration of the three-node clusters of `infra/cluster` (docs/clusters.md). Sourced
# after lib.sh, never run. The render functions are pure (their output depends on their arguments and the settings
# below only): tests/cluster-config.unit.spec.ts checks what they write.

CLUSTER_HOME="$CACHE_DIR/cluster"
CLUSTER_NODES=(1 2 3)

# RabbitMQ node N: rmqN@localhost, AMQP on CLUSTER_RABBITMQ_PORT_BASE+N, Erlang distribution on
# CLUSTER_RABBITMQ_DIST_BASE+N, management on CLUSTER_RABBITMQ_MGMT_BASE+N. The machine's node keeps 5672/25672/15672.
CLUSTER_RABBITMQ_PORT_BASE="${CLUSTER_RABBITMQ_PORT_BASE:-5700}"
CLUSTER_RABBITMQ_DIST_BASE="${CLUSTER_RABBITMQ_DIST_BASE:-25700}"
CLUSTER_RABBITMQ_MGMT_BASE="${CLUSTER_RABBITMQ_MGMT_BASE:-15700}"
CLUSTER_RABBITMQ_START_TIMEOUT="${CLUSTER_RABBITMQ_START_TIMEOUT:-120}"
CLUSTER_RABBITMQ_HOME="$CLUSTER_HOME/rabbitmq"
CLUSTER_NAME=async-messaging-cluster

# Kafka node N: node.id N, clients on CLUSTER_KAFKA_PORT_BASE+N, controller on CLUSTER_KAFKA_CONTROLLER_BASE+N.
CLUSTER_KAFKA_PORT_BASE="${CLUSTER_KAFKA_PORT_BASE:-9200}"
CLUSTER_KAFKA_CONTROLLER_BASE="${CLUSTER_KAFKA_CONTROLLER_BASE:-9210}"
CLUSTER_KAFKA_HEAP_OPTS="${CLUSTER_KAFKA_HEAP_OPTS:--Xms128m -Xmx384m}"
CLUSTER_KAFKA_START_TIMEOUT="${CLUSTER_KAFKA_START_TIMEOUT:-120}"
CLUSTER_KAFKA_STOP_TIMEOUT="${CLUSTER_KAFKA_STOP_TIMEOUT:-30}"
CLUSTER_KAFKA_HOME="$CLUSTER_HOME/kafka"
CLUSTER_KAFKA_ID_FILE="$CLUSTER_KAFKA_HOME/cluster-id"
CLUSTER_KAFKA_PROBE_LOG="$CLUSTER_KAFKA_HOME/probe.log"

rmq_name() { printf 'rmq%s@localhost' "$1"; }
rmq_port() { printf '%s' $((CLUSTER_RABBITMQ_PORT_BASE + $1)); }
rmq_dist_port() { printf '%s' $((CLUSTER_RABBITMQ_DIST_BASE + $1)); }
rmq_mgmt_port() { printf '%s' $((CLUSTER_RABBITMQ_MGMT_BASE + $1)); }
rmq_dir() { printf '%s/rmq%s' "$CLUSTER_RABBITMQ_HOME" "$1"; }
kafka_node_port() { printf '%s' $((CLUSTER_KAFKA_PORT_BASE + $1)); }
kafka_node_controller_port() { printf '%s' $((CLUSTER_KAFKA_CONTROLLER_BASE + $1)); }
kafka_node_dir() { printf '%s/kafka%s' "$CLUSTER_KAFKA_HOME" "$1"; }

# The clients' view: every node, comma-separated (KAFKA_BROKERS; RABBITMQ_URLS' hosts).
cluster_kafka_brokers() {
  local n out=()
  for n in "${CLUSTER_NODES[@]}"; do out+=("127.0.0.1:$(kafka_node_port "$n")"); done
  (IFS=,; printf '%s' "${out[*]}")
}
# controller.quorum.voters: id@host:port for every node.
cluster_kafka_voters() {
  local n out=()
  for n in "${CLUSTER_NODES[@]}"; do out+=("$n@127.0.0.1:$(kafka_node_controller_port "$n")"); done
  (IFS=,; printf '%s' "${out[*]}")
}

# rmq_conf N : rabbitmq.conf of node N. Loopback only; quorum queues are the cluster's default for what the
# provisioner declares (it names the type itself); the management API is what the provisioner talks to.
rmq_conf() {
  local n="$1"
  printf '%s\n' "# Written by infra/cluster: node $(rmq_name "$n") of the three-node cluster (docs/clusters.md)." \
    "listeners.tcp.1 = 127.0.0.1:$(rmq_port "$n")" \
    "management.tcp.ip = 127.0.0.1" \
    "management.tcp.port = $(rmq_mgmt_port "$n")" \
    "cluster_name = $CLUSTER_NAME" \
    '# New quorum queues get their leader on the node with the fewest leaders, not on the declaring one.' \
    'queue_leader_locator = balanced' \
    '# A node that lost contact with the majority pauses (closes its clients) instead of going on alone.' \
    'cluster_partition_handling = pause_minority' \
    'log.file.level = info' \
    'log.console = false'
}

# rmq_env N : the environment of node N's server and of rabbitmqctl for it, one NAME=value per line. The machine's
# /etc/rabbitmq pins the node name, port 5672 and its conf.d: RABBITMQ_CONF_ENV_FILE (an empty file) and
# RABBITMQ_CONFIG_FILES (an empty directory) keep them out.
rmq_env() {
  local n="$1" dir
  dir="$(rmq_dir "$n")"
  printf '%s\n' "RABBITMQ_NODENAME=$(rmq_name "$n")" \
    "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" \
    "RABBITMQ_NODE_PORT=$(rmq_port "$n")" \
    "RABBITMQ_DIST_PORT=$(rmq_dist_port "$n")" \
    "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf" \
    "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf" \
    "RABBITMQ_CONFIG_FILES=$dir/conf.d" \
    "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config" \
    "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins" \
    "RABBITMQ_MNESIA_BASE=$dir/data" \
    "RABBITMQ_LOG_BASE=$dir/log" \
    "RABBITMQ_PID_FILE=$dir/rmq$n.pid" \
    "ERL_EPMD_ADDRESS=127.0.0.1" \
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
}

# kafka_node_render N : the broker template with node N's id, ports, log directory and this machine's passwords.
kafka_node_render() {
  local n="$1"
  sed -e "s|@NODE_ID@|$n|g" -e "s|@CLIENT_PORT@|$(kafka_node_port "$n")|g" \
    -e "s|@CONTROLLER_PORT@|$(kafka_node_controller_port "$n")|g" -e "s|@VOTERS@|$(cluster_kafka_voters)|g" \
    -e "s|@DATA@|$(kafka_node_dir "$n")/data|g" -e "s|@KAFKA_ADMIN_PRINCIPAL@|$KAFKA_ADMIN_PRINCIPAL|g" \
    -e "s|@KAFKA_ADMIN_PASSWORD@|$(machine_secret "kafka-$KAFKA_ADMIN_PRINCIPAL")|g" \
    -e "s|@KAFKA_CONTROLLER_PASSWORD@|$(machine_secret kafka-controller)|g" \
    "$INFRA_DIR/kafka/cluster.properties"
}

# cluster_client_env : what a client of the cluster sets (printed by `infra/cluster env`, read by the failover probe).
cluster_client_env() {
  local n urls=()
  for n in "${CLUSTER_NODES[@]}"; do urls+=("127.0.0.1:$(rmq_port "$n")"); done
  printf '%s\n' "RABBITMQ_CLUSTER_NODES=$(IFS=,; printf '%s' "${urls[*]}")" \
    "RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:$(rmq_mgmt_port 1)" \
    "RABBITMQ_QUEUE_TYPE=quorum" \
    "KAFKA_BROKERS=$(cluster_kafka_brokers)" \
    "KAFKA_REPLICATION_FACTOR=3"
}
