import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Envelope } from './envelope.js';
import { MessageCatalog, defineMessage, mayHoldForbiddenKey, parseEnvelope, MAX_MESSAGE_BYTES } from './message.js';
import { OrderCreated, PlaceOrder, orderEvents } from './orders.messages.js';

const catalog = new MessageCatalog([...orderEvents]);
const order = {
  orderId: '8b0a3a6e-0a8a-4c41-9a0e-3f0f3b8f1a01',
  userId: 'c6b2b7de-5b9e-4b8e-9c1f-2f3a4b5c6d7e',
  items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1250 }],
  total: 2500,
};
const valid = () => OrderCreated.create(order, { correlationId: order.orderId });
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('message envelope', () => {
  it('builds an envelope with ids, version and time, and parses it back', () => {
    const envelope = valid();
    expect(envelope).toMatchObject({
      type: 'order.created',
      version: 1,
      correlationId: order.orderId,
      causationId: null,
    });
    expect(envelope.messageId).toMatch(/^[0-9a-f-]{36}$/);
    const parsed = catalog.parse(bytes(envelope));
    expect(parsed).toEqual({ ok: true, message: envelope });
  });

  it('refuses invalid JSON with the parser error', () => {
    const parsed = parseEnvelope('{"messageId":');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/^invalid JSON: /);
  });

  it('names the envelope field that is missing or wrong', () => {
    const { messageId: _drop, ...noId } = valid();
    const parsed = catalog.parse(bytes({ ...noId, version: 'one' }));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain('messageId');
    expect(!parsed.ok && parsed.reason).toContain('version');
  });

  it('names the data field that fails, with its path', () => {
    const envelope = valid();
    const parsed = catalog.parse(
      bytes({ ...envelope, data: { ...order, items: [{ sku: 'X', quantity: -1, unitPrice: 5 }] } }),
    );
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/^invalid order\.created: data\.items\.0\.quantity: /);
  });

  it('refuses a type the consumer does not know, and a version newer than it knows', () => {
    const unknown = catalog.parse(bytes({ ...valid(), type: 'order.shipped' }));
    expect(!unknown.ok && unknown.reason).toBe('unknown message type: order.shipped');
    const newer = catalog.parse(bytes({ ...valid(), version: 2 }));
    expect(!newer.ok && newer.reason).toMatch(/unsupported version 2 of order\.created/);
  });

  it('ignores unknown fields (forward compatibility)', () => {
    const envelope = valid();
    const parsed = catalog.parse(bytes({ ...envelope, extra: 1, data: { ...order, note: 'new field' } }));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.message.data).toEqual(order);
      expect(parsed.message).not.toHaveProperty('extra');
    }
  });

  it('refuses a message with a __proto__ key anywhere, and pollutes nothing', () => {
    const raw = JSON.stringify(valid()).replace('"sku":"SKU-1"', '"sku":"SKU-1","__proto__":{"polluted":true}');
    const parsed = catalog.parse(raw);
    expect(parsed).toEqual({ ok: false, reason: 'forbidden key in message: __proto__' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a forbidden key written with \\u escapes, or as constructor / prototype, without a reviver for clean text', () => {
    const clean = JSON.stringify(valid());
    expect(mayHoldForbiddenKey(clean)).toBe(false);
    for (const [key, name] of [
      ['\\u005f_proto__', '__proto__'],
      ['__pr\\u006fto__', '__proto__'],
      ['constructor', 'constructor'],
      ['prototype', 'prototype'],
    ]) {
      const raw = clean.replace('"sku":"SKU-1"', `"sku":"SKU-1","${key}":{"polluted":true}`);
      expect(mayHoldForbiddenKey(raw)).toBe(true);
      expect(catalog.parse(raw)).toEqual({ ok: false, reason: `forbidden key in message: ${name}` });
    }
    // A value that merely contains such a word, or an escape, takes the careful path and is accepted.
    const careful = clean.replace('"sku":"SKU-1"', '"sku":"constructor \\u0041"');
    expect(mayHoldForbiddenKey(careful)).toBe(true);
    expect(catalog.parse(careful).ok).toBe(true);
  });

  it('refuses a body larger than the limit before parsing it', () => {
    const parsed = parseEnvelope(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20));
    expect(!parsed.ok && parsed.reason).toMatch(/^message too large/);
  });

  it('validates data when a message is created, so a producer cannot send a bad message', () => {
    expect(() =>
      PlaceOrder.create({ ...order, items: [], placedAt: new Date().toISOString() }, { correlationId: 'c' }),
    ).toThrow();
  });

  it('publishes each definition as a JSON Schema of the whole envelope, open to unknown fields', () => {
    const schema = OrderCreated.jsonSchema();
    expect(schema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['messageId', 'type', 'version', 'data']) as unknown,
      properties: { type: { const: 'order.created' }, version: { const: 1 } },
    });
    expect(JSON.stringify(schema)).not.toContain('additionalProperties');
  });
});

describe('message versions', () => {
  const V1 = defineMessage('thing.made', 1, z.object({ size: z.number() }));
  type V1 = ReturnType<typeof V1.create>;
  const data2 = z.object({ size: z.number(), unit: z.enum(['cm', 'in']) });
  type V2 = Envelope<'thing.made', z.output<typeof data2>, 2>;
  const upcast = (e: V1 | V2): V2 => (e.version === 1 ? { ...e, version: 2, data: { ...e.data, unit: 'cm' } } : e);
  const V2 = defineMessage('thing.made', 2, data2, { from: [V1], upcast });

  it('refuses an upcaster whose result is not a valid newest version, naming the field', () => {
    const wrong = defineMessage('thing.made', 2, data2, {
      from: [V1],
      upcast: (e) => ({ ...e, version: 2, data: { size: 1, unit: 'mm' as 'cm' } }),
    });
    const parsed = new MessageCatalog([wrong]).parse(bytes(V1.create({ size: 3 }, { correlationId: 'c' })));
    expect(!parsed.ok && parsed.reason).toMatch(/^invalid thing\.made v1 upcast to v2: data\.unit: /);
  });

  it('upcasts an older version before the handler sees it', () => {
    const parsed = new MessageCatalog([V2]).parse(bytes(V1.create({ size: 3 }, { correlationId: 'c' })));
    expect(parsed.ok && parsed.message).toMatchObject({ version: 2, data: { size: 3, unit: 'cm' } });
  });

  it('refuses a definition that claims to read a newer or another type', () => {
    const untyped = defineMessage as (...args: unknown[]) => unknown;
    expect(() => untyped('other', 2, data2, { from: [V1], upcast })).toThrow(/^other v2 cannot read thing\.made v1$/);
    expect(() => untyped('thing.made', 1, data2, { from: [V1], upcast })).toThrow(/cannot read/);
  });
});
