import { describe, expect, it } from 'vitest';
import { MessageCatalog, allMessages, parseEnvelope } from '@am/contracts';
import { SERVICES, exchanges, topics } from '../topology.js';
import { POISON_VARIANTS, poisonDestinations, poisonMessage, poisonRecord } from './poison.js';

describe('poison messages', () => {
  it('go only where the sending service publishes, and reach the queues or groups the topology binds there', () => {
    for (const service of SERVICES) {
      for (const d of poisonDestinations(service)) {
        if (d.broker === 'kafka') {
          expect(topics.find((t) => t.name === d.topic)?.producers, d.destination).toContain(service);
        } else {
          expect(exchanges.find((e) => e.name === d.exchange)?.publishers, d.destination).toContain(service);
        }
        expect(d.reaches.length, d.destination).toBeGreaterThan(0);
      }
    }
    const byName = Object.fromEntries(poisonDestinations('orders').map((d) => [d.destination, d]));
    expect(byName['saga-commands/payment.process']).toMatchObject({
      reaches: ['payment.process', 'audit-saga'],
      deadLetters: ['payment.process-dlq', 'audit-saga-dlq'],
    });
    expect(byName['user-events']?.reaches).toHaveLength(4);
    expect(byName['order-events']?.deadLetters).toEqual(['order-events.dlt']);
    // The headers exchange sends a job without routing headers to its alternate: the bulk lane.
    expect(poisonDestinations('email')[0]).toMatchObject({ destination: 'mail', reaches: ['mail-bulk'] });
    expect(poisonDestinations('audit')).toEqual([]);
  });

  it('are refused by every consumer for the reason their variant names, and carry a poison- correlation id', () => {
    const catalog = new MessageCatalog(allMessages);
    for (const service of SERVICES) {
      for (const destination of poisonDestinations(service)) {
        const reasons = POISON_VARIANTS.map((variant) => {
          const message = poisonMessage(destination, variant);
          expect(message.correlationId).toMatch(/^poison-[0-9a-f-]{36}$/);
          expect(message.type).toBe(destination.messageType);
          expect(catalog.has(message.type)).toBe(true);
          const parsed = catalog.parse(message.body);
          expect(parsed.ok, `${destination.destination} ${variant}`).toBe(false);
          return parsed.ok ? '' : parsed.reason;
        });
        expect(reasons[0]).toMatch(/^invalid JSON/);
        expect(reasons[1]).toMatch(new RegExp(`^invalid ${destination.messageType.replace('.', '\\.')}: data`));
        expect(reasons[2]).toBe('unknown message type: poison.unknown-type');
      }
    }
    const [kafka] = poisonDestinations('orders').filter((d) => d.broker === 'kafka');
    const message = poisonMessage(kafka!, 'invalid-payload');
    const envelope = parseEnvelope(message.body);
    expect(envelope.ok && envelope.message.correlationId).toBe(message.correlationId);
    expect(poisonRecord('order-events', message)).toMatchObject({
      key: message.correlationId,
      headers: { 'event-type': 'order.confirmed', 'message-id': message.messageId },
    });
  });
});
