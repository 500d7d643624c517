#!/usr/bin/env bash
# The Kafka side of the first node-failure drill (docs/clusters.md): 1,000 records of 100 bytes with acks=all to
# order-events (replication factor 3, min.insync.replicas=2) with three brokers, with two, with one, and with three
# again after `infra/cluster up` brought the stopped ones back. Needs `infra/cluster up`; prints one line per step
# (ProducerPerformance exits 0 even when no record was acknowledged: read the counts).
#   flock -o /tmp/am-heavy-2.lock experiments/cluster-kafka-drill.sh | tee experiments/results/cluster-kafka-drill.txt
set -uo pipefail # a failed step is reported, and the drill goes on
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source infra/lib.sh
source infra/cluster-lib.sh
log="$CLUSTER_KAFKA_HOME/drill.log"
perf() { # perf LABEL : 1,000 records of 100 bytes, acks=all, to order-events on the cluster
  local t0; t0="$(now_ns)"
  timeout 90 "${KAFKA_TOOL[@]}" org.apache.kafka.tools.ProducerPerformance --topic order-events --num-records 1000 \
    --record-size 100 --throughput -1 --producer.config "$KAFKA_ADMIN_CONFIG" \
    --producer-props "bootstrap.servers=$(cluster_kafka_brokers)" acks=all delivery.timeout.ms=15000 request.timeout.ms=5000 \
    >"$log" 2>&1
  echo "kafka drill: $1: exit $? after $(elapsed "$t0"): $(grep -E 'records sent' "$log" | tail -1 | cut -c1-120) $(grep -oE 'NotEnoughReplicas[A-Za-z]*|TimeoutException' "$log" | sort | uniq -c | tr '\n' ' ')"
}
perf "3 brokers"
infra/cluster stop-node kafka 1
perf "2 brokers (kafka1 stopped)"
infra/cluster stop-node kafka 2
perf "1 broker (kafka1, kafka2 stopped)"
t0="$(now_ns)"; infra/cluster up | grep -E 'kafka|done'; echo "kafka drill: restarted in $(elapsed "$t0")"
perf "3 brokers again"
