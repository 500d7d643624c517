import {
  Controller,
  Get,
  Header,
  HttpException,
  HttpStatus,
  Inject,
  Module,
  SetMetadata,
  type DynamicModule,
} from '@nestjs/common';
import type { ServiceMetrics } from './metrics.js';

/** A dependency the service needs to be ready: its name and a check that resolves true when it is usable. */
export interface HealthCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
  /** More about the dependency's state, shown under `details` (an open breaker: which dependency, since when). */
  describe?: () => unknown;
}

export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

/**
 * The metadata key of a route's access rule (`@Access(...)` in `@am/messaging`). Defined here so that `/health`
 * and `/metrics` can say they are open to everyone: probes and scrapers carry no token.
 */
export const ACCESS_METADATA = 'am:access';
const OpenToEveryone = () => SetMetadata(ACCESS_METADATA, { public: true });
export const SERVICE_METRICS = Symbol('SERVICE_METRICS');

const withTimeout = <T>(promise: Promise<T>, ms: number, fallback: T) =>
  Promise.race([promise, new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ms))]);

@Controller()
@OpenToEveryone()
export class HealthController {
  constructor(@Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[]) {}

  /** 200 when every dependency is reachable, 503 naming the ones that are not. */
  @Get('health')
  async health() {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        const ok = await withTimeout(Promise.resolve().then(c.check), 2_000, false).catch(() => false);
        return [c.name, ok ? 'up' : 'down'] as const;
      }),
    );
    const details = Object.fromEntries(this.checks.flatMap((c) => (c.describe ? [[c.name, c.describe()]] : [])));
    const body = {
      status: results.every(([, s]) => s === 'up') ? 'ok' : 'unavailable',
      checks: Object.fromEntries(results),
      ...(Object.keys(details).length > 0 ? { details } : {}),
    };
    if (body.status !== 'ok') throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }
}

@Controller()
@OpenToEveryone()
export class MetricsController {
  constructor(@Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

/** `GET /health` and `GET /metrics` for a service. */
@Module({})
export class ObservabilityModule {
  static forRoot(metrics: ServiceMetrics, checks: HealthCheck[]): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: HEALTH_CHECKS, useValue: checks },
        { provide: SERVICE_METRICS, useValue: metrics },
      ],
    };
  }
}
