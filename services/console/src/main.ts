import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AccessGuard, TokenVerifier, parseRateLimit, rateLimiter, readKey, runAsMain } from '@am/messaging';
import { createLogger, NestPinoLogger, ObservabilityModule, ServiceMetrics } from '@am/observability';
import { Collector } from './collect/collector.js';
import { ConsoleApiController } from './console-api.controller.js';
import { DeadLettersApiController } from './dead-letters-api.controller.js';
import { readConsoleConfig } from './console-config.js';
import { Lab } from './lab/lab.js';
import { LabController } from './lab/lab.controller.js';
import { OffsetsApiController } from './offsets-api.controller.js';
import { PageController } from './page.controller.js';
import { SessionController } from './session.controller.js';
import { sessionCookieAsBearer } from './session-cookie.js';
import { CONSOLE_CONFIG, Services } from './upstream.js';

/**
 * The control room (services/console): one page that shows the whole system moving. It reads; what it changes is what
 * its viewer asks of the fault buttons and the dead-letter workbench, through the services' own `/faults` and audit's
 * replays, with the viewer's token, and of the burst lab, which runs the load-leveling experiment in a world of its own
 * (lab/lab.ts). It has no database and no broker connection: its data is the services' `/metrics` and operator routes
 * and RabbitMQ's management API (docs/console.md).
 */
async function start(): Promise<{ close(): Promise<void> }> {
  const config = readConsoleConfig();
  const logger = createLogger('console');
  const verifier = new TokenVerifier(readKey(config.publicKeyFile, 'token verification key'));
  const metrics = new ServiceMetrics('console');
  const collector = new Collector({ ...config, logger });
  const lab = await Lab.create(config.lab, logger);

  @Module({
    imports: [
      ObservabilityModule.forRoot(metrics, [{ name: 'collector', check: () => true, describe: () => sources() }]),
    ],
    controllers: [
      PageController,
      SessionController,
      ConsoleApiController,
      DeadLettersApiController,
      LabController,
      OffsetsApiController,
    ],
    providers: [
      { provide: CONSOLE_CONFIG, useValue: config },
      { provide: Collector, useValue: collector },
      { provide: Lab, useValue: lab },
      Services,
    ],
  })
  class ConsoleModule {}

  const sources = () =>
    Object.fromEntries((collector.ticks().at(-1)?.sources ?? []).map((s) => [s.name, s.ok ? 'up' : 'down']));
  const app = await NestFactory.create<NestExpressApplication>(ConsoleModule, {
    logger: new NestPinoLogger(logger),
  });
  // The same per-address limit as the services (RATE_LIMIT), before any work.
  const limit = parseRateLimit(process.env.RATE_LIMIT);
  if (limit) app.use(rateLimiter(limit, 'address'));
  app.use(sessionCookieAsBearer());
  app.useGlobalGuards(new AccessGuard(app.get(Reflector), verifier));
  collector.start();
  await app.listen(config.port, config.host);
  logger.info({ url: `http://127.0.0.1:${config.port}` }, 'console listening');
  return {
    close: async () => {
      lab.stop();
      await collector.stop();
      await app.close();
    },
  };
}

runAsMain('console', start);
