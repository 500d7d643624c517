import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * The envelope every message carries on either broker (DESIGN.md, "Message envelope").
 * `messageId` is the idempotency key; `version` belongs to the message `type`.
 * Unknown envelope fields are dropped, never rejected, so that newer producers do not break older consumers.
 */
export const EnvelopeSchema = z.object({
  messageId: z.uuid(),
  type: z.string().min(1).max(100),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
  data: z.unknown(),
});

/** An envelope whose `data` has not been validated yet. */
export type RawEnvelope = z.infer<typeof EnvelopeSchema>;

/** An envelope of a known message type with validated data, at one version of that type. */
export interface Envelope<TType extends string = string, TData = unknown, TVersion extends number = number> {
  messageId: string;
  type: TType;
  version: TVersion;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  data: TData;
}

/** Where a message comes from: the message that caused it carries the correlation forward. */
export interface EnvelopeOrigin {
  correlationId: string;
  causationId?: string | null;
  messageId?: string;
  occurredAt?: Date;
}

/** The message that caused this one: its correlation id carries on, its message id becomes the causation id. */
export function causedBy(cause: Pick<Envelope, 'messageId' | 'correlationId'>): EnvelopeOrigin {
  return { correlationId: cause.correlationId, causationId: cause.messageId };
}

export function newMessageId(): string {
  return randomUUID();
}
