import { randomUUID } from 'node:crypto';
import { Controller, Get, GatewayTimeoutException, Inject, Param, Query } from '@nestjs/common';
import { CheckStock, StockChecked } from '@am/contracts';
import {
  Access,
  AmqpRequester,
  Queues,
  RequestTimeoutError,
  SERVICE_CONFIG,
  parseRequest,
  type ServiceConfig,
} from '@am/messaging';
import { CheckAvailabilityRequest } from './check-availability.request.js';

/**
 * `GET /availability/:sku?quantity=N`: whether inventory has enough of a SKU, asked over RabbitMQ and waited for
 * (pattern: request/reply, docs/request-reply.md). Bad input is refused before anything is sent; no answer within
 * the timeout is a 504, never a hang. A read for a shopper or an operator: it reserves nothing.
 */
@Controller('availability')
export class CheckAvailabilityController {
  constructor(
    private readonly requester: AmqpRequester,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get(':sku')
  @Access('customer', 'operator', 'service')
  async check(@Param('sku') sku: string, @Query() query: Record<string, unknown>) {
    const { quantity } = parseRequest(CheckAvailabilityRequest, { sku, ...query });
    const id = randomUUID();
    const request = CheckStock.create({ sku, quantity }, { messageId: id, correlationId: id });
    const timeoutMs = this.config.requestTimeoutMs;
    try {
      const reply = await this.requester.request(Queues.inventoryQueries, request, StockChecked, timeoutMs);
      return reply.data;
    } catch (error) {
      if (!(error instanceof RequestTimeoutError)) throw error;
      throw new GatewayTimeoutException({
        statusCode: 504,
        error: 'Gateway Timeout',
        message: `inventory did not answer within ${timeoutMs} ms; nothing was changed, ask again later`,
      });
    }
  }
}
