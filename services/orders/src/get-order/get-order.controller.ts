import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import { DataSource } from 'typeorm';

interface OrderRow {
  id: string;
  user_id: string;
  status: string;
  reason: string | null;
  total: string;
  items: unknown;
}

/** `GET /orders/:id`: the order as the saga has left it. */
@Controller('orders')
export class GetOrderController {
  constructor(private readonly db: DataSource) {}

  @Get(':id')
  async get(@Param('id', new ParseUUIDPipe()) id: string) {
    const [order] = await this.db.query<OrderRow[]>(
      'SELECT id, user_id, status, reason, total, items FROM orders WHERE id = $1',
      [id],
    );
    if (!order) throw new NotFoundException(`order ${id} not found`);
    return {
      orderId: order.id,
      userId: order.user_id,
      status: order.status,
      ...(order.reason ? { reason: order.reason } : {}),
      total: Number(order.total),
      items: order.items,
    };
  }
}
