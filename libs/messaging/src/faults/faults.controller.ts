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
  ServiceUnavailableException,
} from '@nestjs/common';
import { z } from 'zod';
import { AmqpClient } from '../amqp/amqp-client.js';
import { Access, CurrentCaller } from '../auth/access.js';
import type { Caller } from '../auth/tokens.js';
import { KafkaClient } from '../kafka/kafka-client.js';
import { parseRequest } from '../nest/http.js';
import { OperatorActions } from '../operator-actions/operator-actions.js';
import type { ServiceName } from '../topology.js';
import { FaultRequest, FaultsNotAllowedError, faults, type Fault } from './fault-switches.js';
import {
  PoisonRequest,
  poisonDestinations,
  poisonMessage,
  poisonRecord,
  type PoisonDestination,
  type PoisonVariant,
} from './poison.js';

/** What a service's faults may name: the queues and topics it consumes (set by runService). */
export const FAULT_SOURCES = Symbol('FAULT_SOURCES');
/** The service the faults are switched in (set by runService): what it publishes is where it may send poison. */
export const FAULT_SERVICE = Symbol('FAULT_SERVICE');

/** What `POST /faults/poison` sent: where, which variant, its ids (its story and dead letters are found by them). */
export interface PoisonSent {
  destination: string;
  variant: PoisonVariant;
  messageId: string;
  correlationId: string;
  type: string;
  by: string;
  sentAt: string;
  reaches: string[];
  deadLetters: string[];
}

const FaultId = z.uuid();

/**
 * `GET /faults`, `POST /faults`, `DELETE /faults/:id` on every service: the operator's fault switches
 * (fault-switches.ts). Operators only; refused with 403 unless the process runs with `FAULTS_ALLOWED=1`. Each switch
 * goes to audit's trail of operator actions (`fault.on`, `fault.off`) before it takes effect, and is listed with the
 * operator who turned it on until it ends. `POST /faults/poison` sends one poison message (poison.ts), a one-shot
 * action under the same rule and the same switch (`fault.poison` in the trail).
 */
@Controller('faults')
@Access('operator')
export class FaultsController {
  private readonly logger = new Logger('faults');
  private readonly destinations: PoisonDestination[];

  constructor(
    @Inject(FAULT_SOURCES) private readonly sources: string[],
    @Inject(FAULT_SERVICE) service: ServiceName,
    private readonly amqp: AmqpClient,
    private readonly kafka: KafkaClient,
    private readonly actions: OperatorActions,
  ) {
    this.destinations = poisonDestinations(service);
  }

  /**
   * Whether faults are allowed; what consumer faults may name (`sources`), what `stop-consumers` may name (every
   * consumer running here: `stoppable`), where a poison message may go (`poisonDestinations`); the faults on.
   */
  @Get()
  list(): {
    allowed: boolean;
    sources: string[];
    stoppable: string[];
    poisonDestinations: PoisonDestination[];
    faults: Fault[];
  } {
    return {
      allowed: faults.allowed,
      sources: this.sources,
      stoppable: faults.stoppable(),
      poisonDestinations: this.destinations,
      faults: faults.list(),
    };
  }

  /**
   * `POST /faults/poison` `{destination, variant}`: publishes one poison message to a destination this service
   * publishes to, with its own connection and account. 201 with what was sent; 400 for a destination it does not
   * publish to; 403 where faults are not allowed; 503 when the broker does not take it (nothing was sent).
   */
  @Post('poison')
  @HttpCode(201)
  async poison(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<PoisonSent> {
    const { destination, variant } = parseRequest(PoisonRequest, body);
    if (!faults.allowed) {
      throw new ForbiddenException(
        'faults are off on this stack: start it with FAULTS_ALLOWED=1 (./stack up and ./stack demo do)',
      );
    }
    const target = this.destinations.find((d) => d.destination === destination);
    if (!target) {
      const known = this.destinations.map((d) => d.destination).join(', ') || 'nowhere a consumer reads';
      throw new BadRequestException(`this service publishes no ${destination}; it publishes to ${known}`);
    }
    const message = poisonMessage(target, variant);
    await this.actions.record(caller, {
      action: 'fault.poison',
      target: destination,
      details: { variant, messageId: message.messageId, correlationId: message.correlationId },
    });
    try {
      if (target.broker === 'kafka') await this.kafka.send([poisonRecord(target.topic!, message)]);
      else
        await this.amqp.publishRaw(target.exchange!, target.routingKey!, message.body, {
          messageId: message.messageId,
          type: message.type,
          correlationId: message.correlationId,
          headers: { 'x-poison': variant },
        });
    } catch (error) {
      throw new ServiceUnavailableException(`the poison message was not sent: ${(error as Error).message}`);
    }
    const sent: PoisonSent = {
      destination,
      variant,
      messageId: message.messageId,
      correlationId: message.correlationId,
      type: message.type,
      by: caller.subject,
      sentAt: new Date().toISOString(),
      reaches: target.reaches,
      deadLetters: target.deadLetters,
    };
    this.logger.warn(`poison message sent by ${caller.subject}: ${JSON.stringify(sent)}`);
    return sent;
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
