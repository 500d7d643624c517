import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { Access, describeTarget, parseResetTarget, topics, type ServiceName } from '@am/messaging';
import { Services, passOn, type Upstream } from './upstream.js';

/** Every consumer group of the topology, and the service that owns it (and so serves its reset). */
const OWNERS = new Map<string, ServiceName>(topics.flatMap((t) => t.groups.map((g) => [g.groupId, g.consumer])));
const OWNING_SERVICES = [...new Set(OWNERS.values())];

/** A reset joins the group for a moment to commit its offsets: it can take longer than a read. */
const RESET_TIMEOUT_MS = 30_000;

/** The service that owns `group`, or 404: the console forwards only the topology's groups. */
export function ownerOf(group: unknown): { group: string; service: ServiceName } {
  const service = typeof group === 'string' ? OWNERS.get(group) : undefined;
  if (!service || typeof group !== 'string') {
    throw new NotFoundException({
      statusCode: 404,
      error: 'Not Found',
      reason: `no consumer group ${JSON.stringify(group)}; the groups are ${[...OWNERS.keys()].join(', ')}`,
    });
  }
  return { group, service };
}

/** A reset's `to` as the services take it (`earliest`, `latest`, an ISO time), checked here first: else 400. */
export function parseTo(raw: unknown): string {
  try {
    return describeTarget(parseResetTarget(raw));
  } catch (error) {
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', reason: (error as Error).message });
  }
}

/** `POST /api/consumer-groups/:group/reset`'s body: `{to}` and nothing else. */
export function parseResetBody(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).join() !== 'to') {
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', reason: 'the body must be {"to": ...}' });
  }
  return parseTo((body as { to: unknown }).to);
}

/** A service's `GET /consumer-groups` answer, or why it has none. */
export interface ServiceGroups {
  service: string;
  answered: boolean;
  groups: unknown[];
  error?: string;
}

function serviceGroups(service: string, answer: Upstream<unknown> | { error: string }): ServiceGroups {
  if ('error' in answer) return { service, answered: false, groups: [], error: answer.error };
  const body = answer.body as { groups?: unknown; reason?: unknown } | undefined;
  if (answer.status !== 200 || !Array.isArray(body?.groups)) {
    const reason = typeof body?.reason === 'string' ? `: ${body.reason}` : '';
    return { service, answered: false, groups: [], error: `answered ${answer.status}${reason}` };
  }
  return { service, answered: true, groups: body.groups };
}

/**
 * The Offsets view: each Kafka consumer group's state and reset, and the analytics rebuild, forwarded to the service
 * that owns them with the viewer's own token. The services decide (a reset only of a stopped group: 409 with the
 * reason otherwise) and log who; the console checks the input and passes their answers on.
 */
@Controller('api')
@Access('operator')
export class OffsetsApiController {
  constructor(private readonly services: Services) {}

  /** `GET /api/consumer-groups`: every service that owns groups, with their state as Kafka says it. */
  @Get('consumer-groups')
  async groups(@Headers('authorization') authorization: string): Promise<{ services: ServiceGroups[] }> {
    const answers = await Promise.all(
      OWNING_SERVICES.map((service) =>
        this.services
          .get(service, '/consumer-groups', authorization)
          .catch((error: Error & { getResponse?: () => { reason?: string } }) => ({
            error: error.getResponse?.().reason ?? error.message,
          })),
      ),
    );
    return { services: OWNING_SERVICES.map((service, i) => serviceGroups(service, answers[i]!)) };
  }

  /** `GET /api/consumer-groups/:group/reset-preview?to=`: the owner's preview, per partition. */
  @Get('consumer-groups/:group/reset-preview')
  async preview(
    @Param('group') rawGroup: string,
    @Query('to') rawTo: unknown,
    @Headers('authorization') authorization: string,
  ): Promise<unknown> {
    const { group, service } = ownerOf(rawGroup);
    const to = parseTo(rawTo);
    const path = `/consumer-groups/${encodeURIComponent(group)}/reset-preview?to=${encodeURIComponent(to)}`;
    return passOn(service, await this.services.get(service, path, authorization));
  }

  /** `POST /api/consumer-groups/:group/reset {to}`: the owner's reset; its 409 (group not stopped) passed on. */
  @Post('consumer-groups/:group/reset')
  @HttpCode(200)
  async reset(
    @Param('group') rawGroup: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string,
  ): Promise<unknown> {
    const { group, service } = ownerOf(rawGroup);
    const to = parseResetBody(body);
    const path = `/consumer-groups/${encodeURIComponent(group)}/reset`;
    return passOn(service, await this.services.call('POST', service, path, authorization, { to }, RESET_TIMEOUT_MS));
  }

  /** `GET /api/analytics/rebuild`: the rebuild's progress (analytics' `GET /analytics/rebuild`). */
  @Get('analytics/rebuild')
  async rebuildProgress(@Headers('authorization') authorization: string): Promise<unknown> {
    return this.services.read('analytics', '/analytics/rebuild', authorization);
  }

  /** `POST /api/analytics/rebuild`: starts it (202), or analytics' 409 while one runs. */
  @Post('analytics/rebuild')
  @HttpCode(202)
  async rebuild(@Headers('authorization') authorization: string): Promise<unknown> {
    return passOn('analytics', await this.services.call('POST', 'analytics', '/analytics/rebuild', authorization, {}));
  }
}
