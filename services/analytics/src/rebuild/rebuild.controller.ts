import { Body, ConflictException, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { z } from 'zod';
import { Access, CurrentCaller, OperatorActions, parseRequest, type Caller } from '@am/messaging';
import { RebuildRunningError } from '../replay/order-stats-rebuild.js';
import { OrderStatsRebuilds, type RebuildState } from './order-stats-rebuilds.js';

/** The start takes no options: an empty body, or none. */
const StartRebuild = z.strictObject({}).optional();

/**
 * `POST /analytics/rebuild` starts the rebuild of the order statistics from `order-events`, offset 0, in the
 * background (202 with its progress; 409 while one runs); `GET /analytics/rebuild` reports its progress: records read
 * per partition against the ends, percent, and, once done, the rebuilt totals against the live read model's. Operators.
 */
@Controller('analytics')
export class RebuildController {
  constructor(
    private readonly rebuilds: OrderStatsRebuilds,
    private readonly actions: OperatorActions,
  ) {}

  @Get('rebuild')
  @Access('operator')
  progress(): RebuildState {
    return this.rebuilds.state();
  }

  @Post('rebuild')
  @Access('operator')
  @HttpCode(202)
  async start(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<RebuildState> {
    parseRequest(StartRebuild, body);
    try {
      return await this.rebuilds.start(caller.subject, () =>
        this.actions.record(caller, { action: 'analytics.rebuild', target: 'order-events' }),
      );
    } catch (error) {
      if (error instanceof RebuildRunningError) {
        throw new ConflictException({ statusCode: 409, error: 'Conflict', reason: error.message });
      }
      throw error;
    }
  }
}
