import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Access, SERVICES, topics } from '@am/messaging';
import { Collector } from './collect/collector.js';
import { Lab } from './lab/lab.js';
import { parseFaultBody, parseFaultId, parsePoisonBody, parseService, serviceFaults } from './faults-api.js';
import type {
  DeadLetterEntry,
  FaultEntry,
  Hello,
  PoisonSentEntry,
  SagaBoard,
  ServiceFaults,
  Story,
  TrailEntry,
} from './snapshot.js';
import { handledBy, topologyGraph } from './topology-graph.js';
import { Services, passOn } from './upstream.js';

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const graph = topologyGraph();
const groups = topics.flatMap((t) => t.groups.map((g) => ({ topic: t.name, group: g.groupId, service: g.consumer })));

/**
 * The control room's data: the live stream (server-sent events: `hello` with the topology and the last minutes, then a
 * `tick` per collection, the burst lab's run as `lab` events, a comment every 15 s to keep proxies from closing an idle
 * stream), and the views that read a
 * service with the viewer's token: the saga board, one message's story, an event-sourced account; and the fault
 * buttons, which switch a service's faults on and off with the viewer's token (the service decides, and logs who).
 */
@Controller('api')
@Access('operator')
export class ConsoleApiController {
  constructor(
    private readonly collector: Collector,
    private readonly services: Services,
    private readonly lab: Lab,
  ) {}

  @Get('stream')
  stream(@Res() response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (event: string, data: unknown) => response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const hello: Hello = {
      graph,
      groups,
      history: this.collector.ticks(),
      intervalMs: this.collector.intervalMs,
      historyTicks: this.collector.historyTicks,
    };
    send('hello', hello);
    const labRun = this.lab.run();
    if (labRun) send('lab', { kind: 'run', run: labRun });
    const unsubscribe = this.collector.subscribe((tick) => send('tick', tick));
    const unsubscribeLab = this.lab.subscribe((update) => send('lab', update));
    const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15_000);
    response.on('close', () => {
      unsubscribe();
      unsubscribeLab();
      clearInterval(keepAlive);
    });
  }

  @Get('sagas')
  async sagas(@Headers('authorization') authorization: string): Promise<SagaBoard> {
    return this.services.read<SagaBoard>('orders', '/sagas', authorization);
  }

  /** `GET /api/story?id=ID`: an order id or a correlation id; everything recorded under it, and its dead letters. */
  @Get('story')
  async story(@Query('id') id: unknown, @Headers('authorization') authorization: string): Promise<Story> {
    if (typeof id !== 'string' || !ID.test(id))
      throw new BadRequestException('id must be an order id or a correlation id (letters, digits, . _ : -)');
    const query = encodeURIComponent(id);
    const [trail, deadLetters, order] = await Promise.all([
      this.services.read<{ entries: TrailEntry[] }>('audit', `/audit?correlationId=${query}`, authorization),
      this.services.read<{ deadLetters: DeadLetterEntry[] }>(
        'audit',
        `/dead-letters?correlationId=${query}&limit=100`,
        authorization,
      ),
      UUID.test(id) ? this.services.get('orders', `/orders/${id}`, authorization) : undefined,
    ]);
    const errors = order && order.status >= 400 && order.status !== 404 ? [`orders answered ${order.status}`] : [];
    return {
      id,
      trail: trail.entries.map((e) => ({ ...e, handledBy: handledBy(e.source, e.type) })),
      deadLetters: deadLetters.deadLetters,
      ...(order?.status === 200 ? { order: order.body } : {}),
      errors,
    };
  }

  /** `GET /api/accounts/:userId`: the account's events, each with the balance as of its version. */
  @Get('accounts/:userId')
  async account(@Param('userId') userId: string, @Headers('authorization') authorization: string): Promise<unknown> {
    if (!UUID.test(userId)) throw new BadRequestException('userId must be a UUID');
    return this.services.read('payments', `/accounts/${userId}/events`, authorization);
  }

  /** `GET /api/faults`: each service's fault switches (`GET /faults`), a service that did not answer marked so. */
  /** `GET /api/operator-actions`: audit's trail of operators' actions, the newest 20, with the viewer's token. */
  @Get('operator-actions')
  async operatorActions(@Headers('authorization') authorization: string): Promise<unknown> {
    return this.services.read('audit', '/operator-actions?limit=20', authorization);
  }

  @Get('faults')
  async faults(@Headers('authorization') authorization: string): Promise<{ services: ServiceFaults[] }> {
    const answers = await Promise.all(
      SERVICES.map((service) =>
        this.services
          .get(service, '/faults', authorization)
          .catch((error: Error & { getResponse?: () => { reason?: string } }) => ({
            error: error.getResponse?.().reason ?? error.message,
          })),
      ),
    );
    return { services: SERVICES.map((service, i) => serviceFaults(service, answers[i]!)) };
  }

  /**
   * `POST /api/faults` `{service, kind, source?, delayMs?, fraction?, durationS?}`: that service's `POST /faults`
   * with the viewer's token; its answer passed on (201 and the fault; 400 or 403 with its reason).
   */
  @Post('faults')
  @HttpCode(201)
  async addFault(@Body() body: unknown, @Headers('authorization') authorization: string): Promise<FaultEntry> {
    const { service, request } = parseFaultBody(body);
    return passOn(service, await this.services.call<FaultEntry>('POST', service, '/faults', authorization, request));
  }

  /**
   * `POST /api/faults/poison` `{service, destination, variant}`: that service's `POST /faults/poison` with the viewer's
   * token (the service sends one poison message to a destination it publishes to); its answer passed on (201 with
   * what was sent, its correlation id among it; 400 or 403 with its reason).
   */
  @Post('faults/poison')
  @HttpCode(201)
  async sendPoison(@Body() body: unknown, @Headers('authorization') authorization: string): Promise<PoisonSentEntry> {
    const { service, request } = parsePoisonBody(body);
    return passOn(
      service,
      await this.services.call<PoisonSentEntry>('POST', service, '/faults/poison', authorization, request),
    );
  }

  /** `DELETE /api/faults/:service/:id`: switches the fault off early (that service's `DELETE /faults/:id`). */
  @Delete('faults/:service/:id')
  @HttpCode(204)
  async removeFault(
    @Param('service') rawService: string,
    @Param('id') rawId: string,
    @Headers('authorization') authorization: string,
  ): Promise<void> {
    const service = parseService(rawService);
    const id = parseFaultId(rawId);
    passOn(service, await this.services.call('DELETE', service, `/faults/${id}`, authorization));
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
