import { z } from 'zod';
import { defineMessage, type MessageOf } from './message.js';

// The audit trail of operators' actions: every service tells audit what an operator did to it, on the
// `operator-actions` exchange, before it does it.

/**
 * Event on `operator-actions` (routing key: the action): an operator acted on a service from the control room or
 * its routes: switched a fault on or off, replayed a dead letter, reset a group's positions. Sent by the service
 * that acts, with its own account, before the action takes effect: an action whose record the broker did not
 * confirm is not carried out.
 */
export const OperatorActionTaken = defineMessage(
  'operator.action',
  1,
  z.object({
    /** What was done, as `<area>.<verb>`: `fault.on`, `fault.off`, `dead-letter.replay`, ... */
    action: z
      .string()
      .regex(/^[a-z][a-z-]*(\.[a-z][a-z-]*)+$/)
      .max(80),
    /** The operator token's subject: who did it. */
    operator: z.string().min(1).max(200),
    /** The service that did it on the operator's behalf. */
    service: z.string().min(1).max(64),
    /** What it was done to (a queue, a topic, a dead letter id, a group), when it names one. */
    target: z.string().max(300).optional(),
    /**
     * The request as the service understood it (a fault's kind and limits, an edited replay's changed paths), as
     * JSON text: free-form, so it is a string to the schema (an open object would keep a newer producer's fields).
     */
    details: z.string().max(4_000).default('{}'),
  }),
);
export type OperatorActionTaken = MessageOf<typeof OperatorActionTaken>;

export const operatorEvents = [OperatorActionTaken] as const;
