import { z } from 'zod';
import { EnvelopeSchema, newMessageId, type Envelope, type EnvelopeOrigin } from './envelope.js';

/** One message type at one version: its name, its version and the schema of its `data`. */
export interface MessageDefinition<
  TType extends string = string,
  TSchema extends z.ZodType = z.ZodType,
  TVersion extends number = number,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly schema: TSchema;
  /**
   * The older versions of this type that a consumer built on this definition still reads, oldest first. Each is
   * validated against its own schema and then lifted to this version by {@link MessageDefinition.upcast}.
   */
  readonly olderVersions: readonly MessageDefinition<TType>[];
  /** Builds a complete envelope around validated data. */
  create(data: z.input<TSchema>, origin: EnvelopeOrigin): Envelope<TType, z.output<TSchema>, TVersion>;
  /**
   * Lifts a validated envelope of this type, at this version or one of `olderVersions`, to this version
   * (pattern: upcaster). The identity for a message that is at this version already.
   */
  upcast(envelope: Envelope<TType>): Envelope<TType, z.output<TSchema>, TVersion>;
  /** The whole envelope of this type and version as a zod schema: `type` and `version` are fixed. */
  envelopeSchema(): z.ZodType;
  /** The JSON Schema (draft-07) of the whole envelope on the wire, from the same zod schema. */
  jsonSchema(): Record<string, unknown>;
}

/** The envelope type a definition produces. */
export type MessageOf<D> = D extends MessageDefinition<infer T, infer S, infer V> ? Envelope<T, z.output<S>, V> : never;

/** How a new version of a type reads the versions before it. */
export interface Evolution<TType extends string, TOlder extends MessageDefinition<TType>, TCurrent> {
  /** The definitions of the older versions, which keep their own schemas (`orders.messages.v1.ts`). */
  from: readonly TOlder[];
  /** `upcastX(e: V1 | V2): V2`, with a `switch` on `e.version` that ends in an exhaustive `never`. */
  upcast: (envelope: MessageOf<TOlder> | TCurrent) => TCurrent;
}

/**
 * Declares a message type at one version. The zod schema is the single source of the TypeScript type
 * (`MessageOf`), the runtime validator and the JSON Schema (`jsonSchema()`, which asyncapi.yaml is built from).
 * A breaking change declares the new version with `evolution`: the old definitions it reads and the upcaster
 * that lifts them, so that consumers handle only the newest shape (docs/schema-evolution.md).
 */
export function defineMessage<
  TType extends string,
  TSchema extends z.ZodType,
  TVersion extends number,
  TOlder extends MessageDefinition<TType> = never,
>(
  type: TType,
  version: TVersion,
  schema: TSchema,
  evolution?: Evolution<TType, TOlder, Envelope<TType, z.output<TSchema>, TVersion>>,
): MessageDefinition<TType, TSchema, TVersion> {
  const olderVersions = [...(evolution?.from ?? [])].sort((a, b) => a.version - b.version);
  for (const older of olderVersions) {
    if (older.type !== type || older.version >= version) {
      throw new Error(`${type} v${version} cannot read ${older.type} v${older.version}`);
    }
  }
  const envelopeSchema = EnvelopeSchema.extend({ type: z.literal(type), version: z.literal(version), data: schema });
  return {
    type,
    version,
    schema,
    olderVersions,
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
    upcast(envelope) {
      if (envelope.version === version) return envelope as Envelope<TType, z.output<TSchema>, TVersion>;
      if (!evolution) throw new Error(`${type} v${version} has no upcaster for v${envelope.version}`);
      return evolution.upcast(envelope as MessageOf<TOlder>);
    },
    envelopeSchema: () => envelopeSchema,
    jsonSchema() {
      // `input`: what may be on the wire. No `additionalProperties: false`, because consumers ignore unknown fields.
      const { $schema: _drop, ...json } = z.toJSONSchema(envelopeSchema, { target: 'draft-7', io: 'input' });
      return json;
    },
  };
}

/** The outcome of reading a message off the wire: a valid envelope, or the reason it is not one. */
export type ParseResult<M> = { ok: true; message: M } | { ok: false; reason: string };

const FORBIDDEN_KEY_LIST = ['__proto__', 'constructor', 'prototype'] as const;
const FORBIDDEN_KEYS = new Set<string>(FORBIDDEN_KEY_LIST);

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

/** A `\u` escape or a forbidden key quoted, in one pass over the text (a third of the time of four `includes`). */
const MAY_HOLD_FORBIDDEN_KEY = new RegExp(`\\\\u|"(?:${FORBIDDEN_KEY_LIST.join('|')})"`);

/**
 * False when no key of the JSON `text` can be one of FORBIDDEN_KEYS: none of them appears quoted in it, and it has
 * no `\u` escape (any other escape yields a character that none of them holds).
 */
export function mayHoldForbiddenKey(text: string): boolean {
  return MAY_HOLD_FORBIDDEN_KEY.test(text);
}

/** Reads the bytes of a message as an envelope, without looking at `data`. */
export function parseEnvelope(body: Buffer | string): ParseResult<z.infer<typeof EnvelopeSchema>> {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > MAX_MESSAGE_BYTES) {
    return { ok: false, reason: `message too large: ${size} bytes (limit ${MAX_MESSAGE_BYTES})` };
  }
  let json: unknown;
  let forbidden: string | undefined;
  const text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    // Keys that reach object prototypes are refused outright, whatever else the message holds. A reviver sees every
    // key but makes parsing several times slower, so it runs only when the text could hold such a key: spelled out,
    // or written with a \u escape (the only escape that can make a letter or an underscore).
    json = mayHoldForbiddenKey(text)
      ? JSON.parse(text, (key, value: unknown) => {
          if (FORBIDDEN_KEYS.has(key)) forbidden ??= key;
          return value;
        })
      : JSON.parse(text);
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

/**
 * A set of message definitions a consumer understands, looked up by `type`: the newest version of each type,
 * which also reads that type's older versions and upcasts them, so that handlers see only the newest shape.
 */
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

  /** The definitions of the catalog: the newest version of each type. */
  definitions(): D[] {
    return [...this.byType.values()];
  }

  /** Every version of `type` that this catalog reads, oldest first (empty for an unknown type). */
  versions(type: string): number[] {
    const definition = this.byType.get(type);
    return definition ? [...definition.olderVersions.map((d) => d.version), definition.version] : [];
  }

  /** Validates an envelope and its data; the reason of a failure names the field that failed. */
  parse(body: Buffer | string): ParseResult<MessageOf<D>> {
    const envelope = parseEnvelope(body);
    if (!envelope.ok) return envelope;
    return this.validate(envelope.message);
  }

  /**
   * Validates the data of an already parsed envelope against the schema of its own version, then upcasts an
   * older version to the newest. Unknown fields are dropped (forward compatibility); a version newer than the
   * definition is refused, because the consumer cannot know what it means (deploy consumers before producers).
   */
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
    if (envelope.version === definition.version) {
      const data = definition.schema.safeParse(envelope.data);
      if (!data.success) {
        return { ok: false, reason: `invalid ${envelope.type}: ${describeIssues('data', data.error)}` };
      }
      return { ok: true, message: { ...envelope, data: data.data } as MessageOf<D> };
    }
    const older = definition.olderVersions.find((d) => d.version === envelope.version);
    if (!older) {
      return {
        ok: false,
        reason: `unsupported version ${envelope.version} of ${envelope.type} (this consumer reads versions ${this.versions(envelope.type).join(', ')})`,
      };
    }
    const data = older.schema.safeParse(envelope.data);
    if (!data.success) {
      return {
        ok: false,
        reason: `invalid ${envelope.type} v${envelope.version}: ${describeIssues('data', data.error)}`,
      };
    }
    const upcast = definition.upcast({ ...envelope, data: data.data });
    // The upcaster is code too: what it returns must be a valid newest version, or the message is refused.
    const lifted = definition.schema.safeParse(upcast.data);
    if (!lifted.success || upcast.version !== definition.version) {
      const issues = lifted.success ? `version ${upcast.version}` : describeIssues('data', lifted.error);
      return {
        ok: false,
        reason: `invalid ${envelope.type} v${envelope.version} upcast to v${definition.version}: ${issues}`,
      };
    }
    return { ok: true, message: { ...upcast, data: lifted.data } as MessageOf<D> };
  }
}
