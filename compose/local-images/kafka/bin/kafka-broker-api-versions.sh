#!/bin/sh
# The healthcheck's tool, as in the Kafka distribution's bin/ folder.
exec java -Xms16m -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties \
  -cp '/opt/kafka/libs/*' org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
