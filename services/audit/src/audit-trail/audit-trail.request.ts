import { z } from 'zod';

/** Query of `GET /audit`: the correlation id is required (an order id, a user id). */
export const AuditTrailRequest = z.strictObject({
  correlationId: z.string({ error: 'correlationId is required' }).trim().min(1).max(200),
});
