import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, CurrentCaller, type Caller } from '@am/messaging';

interface OrderRow {
  id: string;
  user_id: string;
  status: string;
  reason: string | null;
  total: string;
  items: unknown;
  flow: string;
}

/** `GET /orders/:id`: the order as the saga has left it; a customer sees only their own orders (404 for others'). */
@Controller('orders')
export class GetOrderController {
  constructor(private readonly db: DataSource) {}

  @Get(':id')
  @Access('customer', 'operator', 'service')
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentCaller() caller: Caller) {
    const [order] = await this.db.query<OrderRow[]>(
      'SELECT id, user_id, status, reason, total, items, flow FROM orders WHERE id = $1',
      [id],
    );
    // Another customer's order answers as an unknown one would: its existence is not the caller's to learn.
    if (!order || (caller.role === 'customer' && order.user_id !== caller.subject)) {
      throw new NotFoundException(`order ${id} not found`);
    }
    return {
      orderId: order.id,
      userId: order.user_id,
      status: order.status,
      ...(order.reason ? { reason: order.reason } : {}),
      total: Number(order.total),
      items: order.items,
      flow: order.flow,
    };
  }
}
