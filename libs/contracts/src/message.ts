import { z } from 'zod';
import { EnvelopeSchema, newMessageId, type Envelope, type EnvelopeOrigin } from './envelope.js';

/** One message type at one version: its name, its version and the schema of its `data`. */
export interface MessageDefinition<TType extends string = string, TSchema extends z.ZodType = z.ZodType> {
  readonly type: TType;
  readonly version: number;
  readonly schema: TSchema;
  /** Builds a complete envelope around validated data. */
  create(data: z.input<TSchema>, origin: EnvelopeOrigin): Envelope<TType, z.output<TSchema>>;
}

/** The envelope type a definition produces. */
export type MessageOf<D> = D extends MessageDefinition<infer T, infer S> ? Envelope<T, z.output<S>> : never;

/**
 * Declares a message type. The zod schema is the single source of the TypeScript type (`MessageOf`), the
 * runtime validator and, later, the JSON Schema.
 */
export function defineMessage<TType extends string, TSchema extends z.ZodType>(
  type: TType,
  version: number,
  schema: TSchema,
): MessageDefinition<TType, TSchema> {
  return {
    type,
    version,
    schema,
    create(data, origin) {
      return {
        messageId: origin.messageId ?? newMessageId(),
        type,
        version,
        occurredAt: (origin.occurredAt ?? new Date()).toISOString(),
        correlationId: origin.correlationId,
        causationId: origin.causationId ?? null,
        data: schema.parse(data),
      };
    },
  };
}

/** The outcome of reading a message off the wire: a valid envelope, or the reason it is not one. */
export type ParseResult<M> = { ok: true; message: M } | { ok: false; reason: string };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Largest message body a consumer accepts; anything bigger is refused before it is parsed. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

function describeIssues(prefix: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

/** Reads the bytes of a message as an envelope, without looking at `data`. */
export function parseEnvelope(body: Buffer | string): ParseResult<z.infer<typeof EnvelopeSchema>> {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > MAX_MESSAGE_BYTES) {
    return { ok: false, reason: `message too large: ${size} bytes (limit ${MAX_MESSAGE_BYTES})` };
  }
  let json: unknown;
  let forbidden: string | undefined;
  try {
    // Keys that reach object prototypes are refused outright, whatever else the message holds.
    json = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'), (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) forbidden ??= key;
      return value;
    });
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
  }
  if (forbidden) return { ok: false, reason: `forbidden key in message: ${forbidden}` };
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    return { ok: false, reason: `invalid envelope: ${describeIssues('', envelope.error)}` };
  }
  return { ok: true, message: envelope.data };
}

/** A set of message definitions a consumer understands, looked up by `type`. */
export class MessageCatalog<D extends MessageDefinition = MessageDefinition> {
  private readonly byType = new Map<string, D>();

  constructor(definitions: readonly D[]) {
    for (const definition of definitions) {
      if (this.byType.has(definition.type)) {
        throw new Error(`message type ${definition.type} is defined twice`);
      }
      this.byType.set(definition.type, definition);
    }
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }

  /** Validates an envelope and its data; the reason of a failure names the field that failed. */
  parse(body: Buffer | string): ParseResult<MessageOf<D>> {
    const envelope = parseEnvelope(body);
    if (!envelope.ok) return envelope;
    return this.validate(envelope.message);
  }

  /** Validates the data of an already parsed envelope. */
  validate(envelope: z.infer<typeof EnvelopeSchema>): ParseResult<MessageOf<D>> {
    const definition = this.byType.get(envelope.type);
    if (!definition) {
      return { ok: false, reason: `unknown message type: ${envelope.type}` };
    }
    if (envelope.version > definition.version) {
      return {
        ok: false,
        reason: `unsupported version ${envelope.version} of ${envelope.type} (this consumer knows up to ${definition.version})`,
      };
    }
    const data = definition.schema.safeParse(envelope.data);
    if (!data.success) {
      return { ok: false, reason: `invalid ${envelope.type}: ${describeIssues('data', data.error)}` };
    }
    return { ok: true, message: { ...envelope, data: data.data } as MessageOf<D> };
  }
}
