import { Body, Controller, Get, HttpCode, Logger, Param, Post, Res } from '@nestjs/common';
import { z } from 'zod';
import { Access, CurrentCaller, parseRequest, type Caller } from '@am/messaging';
import { DeadLetterIdPipe } from '../inspect-dead-letters/dead-letter-id.pipe.js';
import { DeadLetterReplayer, type ReplayAnswer, type ReplayPlan } from './dead-letter-replayer.js';

export { changedPaths, type ReplayAnswer, type ReplayPlan } from './dead-letter-replayer.js';

/**
 * The body of `POST /dead-letters/:id/replay`: nothing (the stored body), or an edited envelope; `dryRun` checks the
 * edit and answers what would be sent (200), sending nothing.
 */
const ReplayRequest = z
  .strictObject({ envelope: z.record(z.string(), z.unknown()).optional(), dryRun: z.boolean().optional() })
  .optional();

/** A plan as JSON: the body as text. */
function shown(plan: ReplayPlan & { changed: string[] }) {
  return plan.kind === 'queue'
    ? { ...plan, body: plan.body.toString('utf8') }
    : { ...plan, record: { ...plan.record, value: plan.record.value.toString() } };
}

/**
 * `GET /dead-letters/:id/replay-plan` (the dry run) and `POST /dead-letters/:id/replay` (202 once the broker has the
 * message): one dead letter back to where it failed, by the same code path as every letter of a bulk replay
 * (`DeadLetterReplayer`, which says what is sent and how a second replay is refused).
 */
@Controller('dead-letters')
export class ReplayDeadLetterController {
  private readonly logger = new Logger('dead-letters');

  constructor(private readonly replayer: DeadLetterReplayer) {}

  /** `GET /dead-letters/:id/replay-plan`: the dry run. What a replay would send, and where; nothing is sent. */
  @Get(':id/replay-plan')
  @Access('operator')
  async plan(@Param('id', DeadLetterIdPipe) id: string) {
    return shown(await this.replayer.plan(id));
  }

  @Post(':id/replay')
  @Access('operator')
  @HttpCode(202)
  async replay(
    @Param('id', DeadLetterIdPipe) id: string,
    @CurrentCaller() caller: Caller,
    @Body() raw: unknown,
    @Res({ passthrough: true }) response: { status(code: number): void },
  ): Promise<ReplayAnswer | ReturnType<typeof shown>> {
    const request = parseRequest(ReplayRequest, raw ?? undefined);
    if (request?.dryRun) {
      response.status(200);
      return shown(await this.replayer.plan(id, request.envelope));
    }
    const answer = await this.replayer.replay(id, caller.subject, request?.envelope);
    this.logger.warn(
      `dead letter ${id} replayed by ${caller.subject} to ${answer.replayedTo}` +
        (answer.changed.length ? ` (edited: ${answer.changed.join(', ')})` : ''),
    );
    return answer;
  }
}
