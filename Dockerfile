# syntax=docker/dockerfile:1
# One image per service from one Dockerfile: build a target per service, e.g.
#   docker build --target orders -t async-messaging/orders .
# Targets: orders, inventory, payments, email, analytics, audit, console (the control room), and topology (the one-shot
# provisioner).
# docker-compose.yml builds every target. No credential is baked in: everything comes from the environment.

# The Node.js release the tests run on (scripts/node-env.sh provides the same major version natively).
ARG NODE_VERSION=24.22.3

# ---------------------------------------------------------------------------------------------------- build --
# Every dependency (TypeScript included) and `tsc -b` over the whole workspace; only the dist folders leave it.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/observability/package.json libs/observability/
COPY libs/persistence/package.json libs/persistence/
COPY libs/messaging/package.json libs/messaging/
COPY libs/testing/package.json libs/testing/
COPY services/orders/package.json services/orders/
COPY services/inventory/package.json services/inventory/
COPY services/payments/package.json services/payments/
COPY services/email/package.json services/email/
COPY services/analytics/package.json services/analytics/
COPY services/audit/package.json services/audit/
COPY services/console/package.json services/console/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.base.json tsconfig.json ./
COPY libs/ libs/
COPY services/ services/
# The services and the libraries they reference, not the root tsconfig.json: it also references experiments, which
# the build context leaves out.
RUN npx tsc -b services/orders services/inventory services/payments services/email services/analytics services/audit \
 services/console

# -------------------------------------------------------------------------------------------------- runtime --
# Production dependencies only (npm ci --omit=dev), the compiled libraries, a non-root user. Shared by every
# service target below, so the dependency layer is built once.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/observability/package.json libs/observability/
COPY libs/persistence/package.json libs/persistence/
COPY libs/messaging/package.json libs/messaging/
COPY libs/testing/package.json libs/testing/
COPY services/orders/package.json services/orders/
COPY services/inventory/package.json services/inventory/
COPY services/payments/package.json services/payments/
COPY services/email/package.json services/email/
COPY services/analytics/package.json services/analytics/
COPY services/audit/package.json services/audit/
COPY services/console/package.json services/console/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error && npm cache clean --force
COPY --from=build /app/libs/contracts/dist libs/contracts/dist
COPY --from=build /app/libs/observability/dist libs/observability/dist
COPY --from=build /app/libs/persistence/dist libs/persistence/dist
COPY --from=build /app/libs/messaging/dist libs/messaging/dist
# Where compose mounts the token keys (volumes made by the auth-keys job): owned by the unprivileged user, so that a
# new volume mounted there is too.
RUN mkdir -p /var/lib/async-messaging/auth/signing /var/lib/async-messaging/auth/verify \
 && chown -R node:node /var/lib/async-messaging
# The image's own unprivileged user; the application files stay owned by root, so the process cannot change them.
USER node

# ------------------------------------------------------------------------------------------ service targets --
# Health: docker-compose.yml probes GET /health on each service's PORT (the port differs per service).

FROM runtime AS orders
COPY --from=build /app/services/orders/dist services/orders/dist
EXPOSE 3001
CMD ["node", "services/orders/dist/main.js"]

FROM runtime AS inventory
COPY --from=build /app/services/inventory/dist services/inventory/dist
EXPOSE 3002
CMD ["node", "services/inventory/dist/main.js"]

FROM runtime AS payments
COPY --from=build /app/services/payments/dist services/payments/dist
EXPOSE 3003
CMD ["node", "services/payments/dist/main.js"]

FROM runtime AS email
COPY --from=build /app/services/email/dist services/email/dist
EXPOSE 3004
CMD ["node", "services/email/dist/main.js"]

FROM runtime AS analytics
COPY --from=build /app/services/analytics/dist services/analytics/dist
EXPOSE 3005
CMD ["node", "services/analytics/dist/main.js"]

FROM runtime AS audit
COPY --from=build /app/services/audit/dist services/audit/dist
EXPOSE 3006
CMD ["node", "services/audit/dist/main.js"]

# The control room: no database and no broker connection; it reads the services' /metrics and RabbitMQ's management
# API. Its dist holds the page's browser modules too (dist/www/page, compiled by the same `tsc -b`).
FROM runtime AS console
COPY --from=build /app/services/console/dist services/console/dist
EXPOSE 3007
CMD ["node", "services/console/dist/main.js"]

# One-shot: the key pair that signs bearer tokens, generated on first use into the auth-signing volume (orders only
# mounts it), and its public half copied into auth-verify (every service mounts it, read-only).
FROM runtime AS auth-keys
CMD ["sh", "-c", "export AUTH_KEYS_DIR=/var/lib/async-messaging/auth/signing/pair && node libs/messaging/dist/auth/cli.js keys && cp $AUTH_KEYS_DIR/auth-verify.pem /var/lib/async-messaging/auth/verify/"]

# One-shot: Kafka topics, and the RabbitMQ vhost, users, permissions, policies, exchanges, queues and bindings
# (idempotent; compose also loads them at broker boot from compose/rabbitmq/definitions.json).
FROM runtime AS topology
CMD ["node", "libs/messaging/dist/provision/cli.js"]
