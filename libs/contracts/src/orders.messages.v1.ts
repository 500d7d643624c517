import { z } from 'zod';
import { defineMessage, type MessageOf } from './message.js';

// Retired versions of the orders service's messages. The producer no longer sends them, but messages of these
// versions can still be waiting in a queue, sit on a topic for replay, or come back from a dead letter queue:
// consumers read them through the upcasters in `orders.messages.ts`. Never change a schema in this file.

/** `user.registered` as orders sent it until version 2: one `name` field, no locale. */
export const UserRegisteredV1 = defineMessage(
  'user.registered',
  1,
  z.object({ userId: z.string().min(1).max(64), email: z.email(), name: z.string().min(1).max(200) }),
);
export type UserRegisteredV1 = MessageOf<typeof UserRegisteredV1>;
