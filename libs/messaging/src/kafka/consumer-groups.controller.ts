import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { z } from 'zod';
import { Access, CurrentCaller } from '../auth/access.js';
import type { Caller } from '../auth/tokens.js';
import { parseRequest } from '../nest/http.js';
import { OperatorActions } from '../operator-actions/operator-actions.js';
import {
  ConsumerGroupPositions,
  ResetRefusedError,
  UnknownGroupError,
  type GroupState,
  type ResetOutcome,
  type ResetPreview,
} from './consumer-group-positions.js';
import { parseResetTarget, type ResetTarget } from './offset-reset.js';

const ResetRequest = z.strictObject({ to: z.string().max(64) });

/**
 * `GET /consumer-groups`, `GET /consumer-groups/:group/reset-preview?to=`, `POST /consumer-groups/:group/reset {to}`
 * on every service, for the Kafka consumer groups it owns (a service without any lists none): the operator's offset
 * reset (consumer-group-positions.ts). Operators only. A reset answers 409 with the reason unless Kafka says the group
 * has no member, and where the group's kind does not allow the target; each one is logged with the operator, and one
 * that goes ahead is in audit's trail of operators' actions (`consumer-group.reset`) before anything moves.
 */
@Controller('consumer-groups')
@Access('operator')
export class ConsumerGroupsController {
  private readonly logger = new Logger('consumer-groups');

  constructor(
    private readonly positions: ConsumerGroupPositions,
    private readonly actions: OperatorActions,
  ) {}

  @Get()
  async list(): Promise<{ groups: GroupState[] }> {
    return { groups: await this.positions.list() };
  }

  @Get(':group/reset-preview')
  async preview(@Param('group') group: string, @Query('to') to: unknown): Promise<ResetPreview> {
    const target = this.target(to);
    try {
      return await this.positions.preview(group, target);
    } catch (error) {
      throw this.answer(error);
    }
  }

  @Post(':group/reset')
  @HttpCode(200)
  async reset(
    @Param('group') group: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResetOutcome> {
    const target = this.target(parseRequest(ResetRequest, body).to);
    try {
      const outcome = await this.positions.reset(group, target, caller.subject, (preview) =>
        this.actions.record(caller, {
          action: 'consumer-group.reset',
          target: group,
          details: { to: preview.to, mode: preview.mode },
        }),
      );
      this.logger.warn(
        `consumer group ${group} reset to ${outcome.to} by ${caller.subject}: ${outcome.summary} ` +
          `(${outcome.mode}, positions in ${outcome.positions}${outcome.kafkaHint ? `, Kafka's hint ${outcome.kafkaHint}` : ''})`,
      );
      return outcome;
    } catch (error) {
      if (error instanceof ResetRefusedError) {
        this.logger.warn(
          `reset of consumer group ${group} to ${error.preview.to} by ${caller.subject} refused: ${error.message}`,
        );
      }
      throw this.answer(error);
    }
  }

  private target(raw: unknown): ResetTarget {
    try {
      return parseResetTarget(raw);
    } catch (error) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', reason: (error as Error).message });
    }
  }

  private answer(error: unknown): unknown {
    if (error instanceof UnknownGroupError) {
      return new NotFoundException({ statusCode: 404, error: 'Not Found', reason: error.message });
    }
    if (error instanceof ResetRefusedError) {
      const { state, members, stopped, reRead, skip, summary } = error.preview;
      return new ConflictException({
        statusCode: 409,
        error: 'Conflict',
        reason: error.message,
        state,
        members,
        stopped,
        reRead,
        skip,
        summary,
      });
    }
    return error;
  }
}
