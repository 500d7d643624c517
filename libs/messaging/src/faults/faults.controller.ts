import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  Logger,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { z } from 'zod';
import { Access, CurrentCaller } from '../auth/access.js';
import type { Caller } from '../auth/tokens.js';
import { parseRequest } from '../nest/http.js';
import { OperatorActions } from '../operator-actions/operator-actions.js';
import { FaultRequest, FaultsNotAllowedError, faults, type Fault } from './fault-switches.js';

/** What a service's faults may name: the queues and topics it consumes (set by runService). */
export const FAULT_SOURCES = Symbol('FAULT_SOURCES');

const FaultId = z.uuid();

/**
 * `GET /faults`, `POST /faults`, `DELETE /faults/:id` on every service: the operator's fault switches
 * (fault-switches.ts). Operators only; refused with 403 unless the process runs with `FAULTS_ALLOWED=1`. Each switch
 * goes to audit's trail of operator actions (`fault.on`, `fault.off`) before it takes effect, and is listed with the
 * operator who turned it on until it ends.
 */
@Controller('faults')
@Access('operator')
export class FaultsController {
  private readonly logger = new Logger('faults');

  constructor(
    @Inject(FAULT_SOURCES) private readonly sources: string[],
    private readonly actions: OperatorActions,
  ) {}

  @Get()
  list(): { allowed: boolean; sources: string[]; faults: Fault[] } {
    return { allowed: faults.allowed, sources: this.sources, faults: faults.list() };
  }

  @Post()
  @HttpCode(201)
  async add(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<Fault> {
    const request = parseRequest(FaultRequest, body);
    try {
      faults.check(request, this.sources);
      await this.actions.record(caller, {
        action: 'fault.on',
        target: 'source' in request ? request.source : undefined,
        details: { ...request },
      });
      const fault = faults.add(request, caller.subject, this.sources);
      this.logger.warn(`fault switched on by ${caller.subject}: ${JSON.stringify(fault)}`);
      return fault;
    } catch (error) {
      if (error instanceof FaultsNotAllowedError) throw new ForbiddenException(error.message);
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') raw: string, @CurrentCaller() caller: Caller): Promise<void> {
    const id = parseRequest(FaultId, raw);
    const fault = faults.list().find((f) => f.id === id);
    if (!fault) throw new NotFoundException(`no fault ${id} is on (it may have ended)`);
    await this.actions.record(caller, {
      action: 'fault.off',
      target: 'source' in fault ? fault.source : undefined,
      details: { id, kind: fault.kind },
    });
    if (!faults.remove(id)) throw new NotFoundException(`no fault ${id} is on (it may have ended)`);
    this.logger.warn(`fault ${id} switched off by ${caller.subject}`);
  }
}
