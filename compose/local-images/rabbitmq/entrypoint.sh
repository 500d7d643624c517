#!/bin/sh
# The data volume may arrive empty or owned by root: the broker runs as the rabbitmq user.
set -eu
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
# Debian's wrapper scripts switch to the rabbitmq user by themselves.
exec "$@"
