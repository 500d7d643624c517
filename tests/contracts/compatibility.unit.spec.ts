import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MessageCatalog,
  OrderCreated,
  UserRegistered,
  allMessages,
  defineMessage,
  type MessageDefinition,
} from '@am/contracts';
import { queues, topics } from '@am/messaging';
import { checkFixtures, loadFixtures, withUnknownFields } from './compatibility.js';
import { consumersOf, loadConsumptions, type Consumption } from './consumers.js';

// STYLE 4: saved sample messages under fixtures/ keep parsing (backward), and consumers ignore fields they do
// not know (forward). The consumers of each type come from the services' subscription declarations.
const fixtures = loadFixtures();
let consumptions: Consumption[];

beforeAll(async () => {
  consumptions = await loadConsumptions();
});

describe('who consumes what', () => {
  it('is derived from every service subscription, and agrees with the topology', () => {
    const queueConsumers = consumptions.filter((c) => c.kind === 'queue').map((c) => `${c.channel} ${c.service}`);
    expect(queueConsumers.sort()).toEqual(queues.map((q) => `${q.name} ${q.consumer}`).sort());
    const topicNames = topics.map((t) => t.name);
    for (const c of consumptions.filter((c) => c.kind === 'topic')) expect(topicNames).toContain(c.channel);
    expect(consumersOf('user.registered', consumptions)).toEqual([
      'analytics (analytics-tracking)',
      'audit (audit-log)',
      'email (email-notifications)',
      'payments (payments-accounts)',
    ]);
  });

  it('reads only types that libs/contracts defines, at their newest version', () => {
    const newest = new Map<string, MessageDefinition>(allMessages.map((d) => [d.type, d]));
    for (const c of consumptions) {
      for (const definition of c.catalog.definitions()) {
        expect(newest.get(definition.type), `${c.file}: ${definition.type}`).toBe(definition);
      }
    }
  });
});

describe('saved sample messages (fixtures/messages)', () => {
  it('exist for every type and every version that is defined or still read', () => {
    const expected = allMessages.flatMap((d) => [...d.olderVersions, d].map((v) => `${v.type}.v${v.version}`));
    expect(fixtures.map((f) => `${f.type}.v${f.version}`).sort()).toEqual(expected.sort());
    for (const fixture of fixtures) {
      expect(JSON.parse(fixture.body), fixture.file).toMatchObject({ type: fixture.type, version: fixture.version });
    }
  });

  it('keep parsing with the current definitions and with every consumer catalog (backward compatibility)', () => {
    expect(checkFixtures(fixtures, allMessages, consumptions)).toEqual([]);
  });

  it('reach handlers at the newest version of their type, older versions upcast', () => {
    const catalog = new MessageCatalog(allMessages);
    for (const fixture of fixtures) {
      const parsed = catalog.parse(fixture.body);
      expect(parsed.ok && parsed.message.version, fixture.file).toBe(
        allMessages.find((d) => d.type === fixture.type)?.version,
      );
    }
  });

  it('still parse, to the same message, with unknown fields added everywhere (forward compatibility)', () => {
    for (const consumer of consumptions) {
      for (const fixture of fixtures.filter((f) => consumer.catalog.has(f.type))) {
        const extended = JSON.stringify(withUnknownFields(JSON.parse(fixture.body)));
        const plain = consumer.catalog.parse(fixture.body);
        const parsed = consumer.catalog.parse(extended);
        expect(parsed, `${fixture.file} at ${consumer.service} (${consumer.endpoint})`).toEqual(plain);
      }
    }
  });

  it('fail the suite naming the type, the field and the consumers when a change breaks one', () => {
    // A field's type changes without a new version: order.created's total becomes a string.
    const retyped = defineMessage('order.created', 1, OrderCreated.schema.extend({ total: z.string() }));
    // A field goes, and another is required in its place, without a new version: the v2 sample lacks `locale`.
    const renamed = defineMessage(
      'user.registered',
      2,
      UserRegistered.schema.omit({ locale: true }).extend({ language: z.string() }),
    );
    const broken = allMessages.map((d) =>
      d.type === 'order.created' ? retyped : d.type === 'user.registered' ? renamed : d,
    );
    const problems = checkFixtures(fixtures, broken, consumptions);
    expect(problems).toEqual([
      expect.stringMatching(
        /^fixtures\/messages\/order\.created\.v1\.json \(order\.created v1\) no longer parses: invalid order\.created: data\.total: .*; consumers affected: analytics \(order-events\/analytics\), audit \(order-events\/audit\), email \(order-events\/order-notifications\)$/,
      ),
      // v1 is no longer read at all: the broken definition forgot the upcaster.
      expect.stringMatching(
        /^fixtures\/messages\/user\.registered\.v1\.json .* unsupported version 1 of user\.registered .*consumers affected: analytics \(analytics-tracking\), audit \(audit-log\), email \(email-notifications\), payments \(payments-accounts\)$/,
      ),
      expect.stringMatching(
        /^fixtures\/messages\/user\.registered\.v2\.json \(user\.registered v2\) no longer parses: invalid user\.registered: data\.language: .*; consumers affected: analytics/,
      ),
    ]);
  });
});
