import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { Access } from '@am/messaging';
import { parseDeadLetterId, parseGroupId, parseObjectBody, parseRunId } from './dead-letters-api.js';
import { Services, passOn, type Upstream } from './upstream.js';

/** A dry run of a large selection plans each letter: it may take longer than a read. */
const SLOW_MS = 20_000;

type StatusResponse = { status(code: number): void; setHeader(name: string, value: string): void };

/**
 * The dead-letter workbench's data: every route is the audit service's own, called with the viewer's token (audit
 * decides, and records who replayed what), its answer passed on: a refusal (400 with the reason, 404, 409) as it was.
 * The groups of every dead letter queue and the Kafka dead letter topic, a group's letters, one letter (with its
 * message's other dead letters: its history across replays), the dry run, the replay of one (edited or not), and the
 * bulk replays with their progress and warning.
 */
@Controller('api')
@Access('operator')
export class DeadLettersApiController {
  constructor(private readonly services: Services) {}

  @Get('dead-letter-groups')
  async groups(@Headers('authorization') authorization: string): Promise<unknown> {
    return this.services.read('audit', '/dead-letter-groups', authorization);
  }

  @Get('dead-letter-groups/:id')
  async group(@Param('id') id: string, @Headers('authorization') authorization: string): Promise<unknown> {
    return this.services.read('audit', `/dead-letter-groups/${parseGroupId(id)}`, authorization);
  }

  /** One dead letter, and `history`: every dead letter of the same message (each time it failed for good), newest first. */
  @Get('dead-letters/:id')
  async letter(@Param('id') raw: string, @Headers('authorization') authorization: string): Promise<unknown> {
    const id = parseDeadLetterId(raw);
    const letter = await this.services.read<{ messageId: string }>('audit', `/dead-letters/${id}`, authorization);
    const history = await this.services.read<{ deadLetters: unknown[] }>(
      'audit',
      `/dead-letters?messageId=${encodeURIComponent(letter.messageId)}&limit=50`,
      authorization,
    );
    return { ...letter, history: history.deadLetters };
  }

  @Get('dead-letters/:id/replay-plan')
  async plan(@Param('id') id: string, @Headers('authorization') authorization: string): Promise<unknown> {
    return this.services.read('audit', `/dead-letters/${parseDeadLetterId(id)}/replay-plan`, authorization);
  }

  /** `{envelope?, dryRun?}`: audit's replay (202), or with `dryRun` its check of the edit and the plan (200). */
  @Post('dead-letters/:id/replay')
  async replay(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string,
    @Res({ passthrough: true }) response: StatusResponse,
  ): Promise<unknown> {
    const path = `/dead-letters/${parseDeadLetterId(id)}/replay`;
    return relay(response, await this.services.call('POST', 'audit', path, authorization, parseObjectBody(body)));
  }

  @Get('dead-letter-replays')
  async runs(@Headers('authorization') authorization: string): Promise<unknown> {
    return this.services.read('audit', '/dead-letter-replays', authorization);
  }

  /** `{ids | groupId, perSecond, dryRun?}`: audit starts the run (202) or answers its dry run (200). */
  @Post('dead-letter-replays')
  async startRun(
    @Body() body: unknown,
    @Headers('authorization') authorization: string,
    @Res({ passthrough: true }) response: StatusResponse,
  ): Promise<unknown> {
    const answer = await this.services.call(
      'POST',
      'audit',
      '/dead-letter-replays',
      authorization,
      parseObjectBody(body),
      SLOW_MS,
    );
    return relay(response, answer);
  }

  @Get('dead-letter-replays/:id')
  async run(@Param('id') id: string, @Headers('authorization') authorization: string): Promise<unknown> {
    return this.services.read('audit', `/dead-letter-replays/${parseRunId(id)}`, authorization);
  }

  @Delete('dead-letter-replays/:id')
  @HttpCode(200)
  async cancelRun(@Param('id') id: string, @Headers('authorization') authorization: string): Promise<unknown> {
    return passOn(
      'audit',
      await this.services.call('DELETE', 'audit', `/dead-letter-replays/${parseRunId(id)}`, authorization),
    );
  }
}

/** Audit's answer as the console's: its success with audit's own status (200 or 202), its refusal as it was. */
function relay(response: StatusResponse, answer: Upstream<unknown>): unknown {
  const body = passOn('audit', answer);
  response.status(answer.status);
  return body;
}
