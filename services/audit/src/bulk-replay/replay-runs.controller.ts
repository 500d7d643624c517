import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { Access, CurrentCaller, parseRequest, type Caller } from '@am/messaging';
import { ReplayRuns, type ReplayRunPreview, type ReplayRunView } from './replay-runs.js';
import { StartReplayRunRequest } from './replay-run.request.js';

const RunId = (raw: string): string => {
  if (!/^[1-9][0-9]{0,17}$/.test(raw))
    throw new BadRequestException(`a bulk replay id is a positive integer, got "${raw.slice(0, 40)}"`);
  return raw;
};

/**
 * Bulk replays of dead letters, operators only: `POST /dead-letter-replays` `{ids | groupId, perSecond, dryRun?}`
 * starts one in the background (202, with `Location`) or, with `dryRun`, answers what it would send (200, nothing
 * sent); `GET /dead-letter-replays[/:id]` its progress and the new failures of its groups since it started; `DELETE
 * /dead-letter-replays/:id` cancels it. Each start and cancel is logged with the operator who did it.
 */
@Controller('dead-letter-replays')
@Access('operator')
export class ReplayRunsController {
  constructor(private readonly runs: ReplayRuns) {}

  @Post()
  async start(
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) response: { status(code: number): void; setHeader(name: string, value: string): void },
  ): Promise<ReplayRunView | ReplayRunPreview> {
    const request = parseRequest(StartReplayRunRequest, body);
    if (request.dryRun) {
      response.status(200);
      return this.runs.preview(request);
    }
    const run = await this.runs.start(request, caller.subject);
    response.status(202);
    response.setHeader('location', `/dead-letter-replays/${run.id}`);
    return run;
  }

  @Get()
  async list(): Promise<{ runs: ReplayRunView[] }> {
    return { runs: await this.runs.list() };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<ReplayRunView> {
    return this.runs.get(RunId(id));
  }

  @Delete(':id')
  @HttpCode(200)
  async cancel(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ReplayRunView> {
    return this.runs.cancel(RunId(id), caller.subject);
  }
}
