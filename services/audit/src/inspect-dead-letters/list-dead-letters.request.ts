import { z } from 'zod';

/**
 * Query of `GET /dead-letters`: `queue` matches the dead letter queue or the queue it came from (for Kafka's, the dead
 * letter topic or the topic it came from); `source` one kind (`queue`: RabbitMQ's, `topic`: Kafka's); `group` Kafka's
 * dead letters of one consumer group; `correlationId` the dead letters of one conversation (one order's story);
 * `messageId` one message's dead letters (its retry history across replays).
 */
export const ListDeadLettersRequest = z.strictObject({
  queue: z.string().trim().min(1).max(255).optional(),
  source: z.enum(['queue', 'topic']).optional(),
  group: z.string().trim().min(1).max(255).optional(),
  correlationId: z.string().trim().min(1).max(255).optional(),
  /** The dead letters of one message: each time it failed for good (a replay that came back is a new one). */
  messageId: z.string().trim().min(1).max(255).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Paging: only dead letters with a smaller id (the `nextBefore` of the previous page). */
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,17}$/, 'must be a dead letter id')
    .optional(),
});
export type ListDeadLettersRequest = z.infer<typeof ListDeadLettersRequest>;
