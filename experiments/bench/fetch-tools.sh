#!/usr/bin/env bash
# Fetches RabbitMQ PerfTest (com.rabbitmq:perf-test, version in experiments/bench/pom.xml) from Maven Central into
# .cache/perf-test/<version>/ once. Kafka's performance tools come with infra/up's Kafka jars (kafka-tools).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pom="$root/experiments/bench/pom.xml"
version="$(sed -n 's:.*<perftest.version>\(.*\)</perftest.version>.*:\1:p' "$pom" | head -n 1)"
dest="$root/.cache/perf-test/$version"
if [[ -f "$dest/.fetch-complete" ]]; then exit 0; fi
command -v mvn >/dev/null || { echo "bench: mvn is needed to fetch PerfTest (apt-get install maven)" >&2; exit 1; }
[[ -d "$root/.cache/kafka" ]] || { echo "bench: Kafka jars missing: run infra/up first" >&2; exit 1; }
echo "bench: fetching RabbitMQ PerfTest $version with mvn into $dest"
mvn -B -q -ntp -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest"
touch "$dest/.fetch-complete"
