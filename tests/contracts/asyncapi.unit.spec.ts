import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { exchanges, queues } from '@am/messaging';
import { ASYNCAPI_FILE, REGENERATE, productions, renderAsyncApi } from './asyncapi.js';
import { loadFixtures } from './compatibility.js';
import { ROOT, loadConsumptions, type Consumption } from './consumers.js';

// asyncapi.yaml cannot drift: it is regenerated here from libs/contracts and the topology and compared with the
// file. `npm run asyncapi` (WRITE_ASYNCAPI=1) writes it instead.
let consumptions: Consumption[];
/** Severity 0 is `DiagnosticSeverity.Error`; warnings and hints (style advice) do not fail the check. */
const isError = (d: { severity: number }) => d.severity === 0;
let generated: string;

beforeAll(async () => {
  consumptions = await loadConsumptions();
  generated = await renderAsyncApi(consumptions);
  if (process.env.WRITE_ASYNCAPI === '1') writeFileSync(ASYNCAPI_FILE, generated);
});

describe('asyncapi.yaml', () => {
  it('is what libs/contracts and the topology generate today', () => {
    expect(existsSync(ASYNCAPI_FILE), `asyncapi.yaml is missing: run \`${REGENERATE}\``).toBe(true);
    const onDisk = readFileSync(ASYNCAPI_FILE, 'utf8');
    expect(onDisk === generated, `asyncapi.yaml is out of date: run \`${REGENERATE}\` and commit it`).toBe(true);
  });

  it('is a valid AsyncAPI 3 document (@asyncapi/parser)', async () => {
    const { document, diagnostics } = await new Parser().parse(generated);
    const errors = diagnostics.filter((d) => isError(d)).map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    const userEvents = document?.channels().get('exchange_user-events');
    expect(
      userEvents
        ?.messages()
        .all()
        .map((m) => m.id())
        .sort(),
    ).toEqual(['user.registered.v1', 'user.registered.v2']);
  });

  it('would be refused by the parser if it were broken (the check above is real)', async () => {
    const broken = generated.replace(
      "$ref: '#/components/messages/user.registered.v2'",
      "$ref: '#/components/messages/nope'",
    );
    const { diagnostics } = await new Parser().parse(broken);
    expect(diagnostics.some((d) => isError(d))).toBe(true);
  });

  it('lists every exchange, queue with its dead letter queue, and topic', () => {
    const doc = parse(generated) as { channels: Record<string, { address: string }> };
    const addresses = Object.values(doc.channels).map((c) => c.address);
    for (const e of exchanges) expect(addresses).toContain(e.name);
    for (const q of queues) expect(addresses).toEqual(expect.arrayContaining([q.name, `${q.name}-dlq`]));
  });

  it('declares producers that match the topology, and a producer for every type a consumer reads', () => {
    for (const exchange of exchanges) {
      const declared = productions.filter((p) => p.channel === exchange.name).map((p) => p.service);
      expect([...new Set(declared)].sort(), exchange.name).toEqual([...exchange.publishers].sort());
    }
    for (const queue of queues) {
      const declared = productions.filter((p) => p.kind === 'queue' && p.channel === queue.name);
      // Nobody sends to a queue by name (the default exchange): every message reaches a queue through an exchange.
      expect(
        declared.map((p) => p.service),
        queue.name,
      ).toEqual([]);
      const reaching = new Set([
        ...declared.flatMap((p) => p.messages.map((d) => d.type)),
        ...queue.bindings.flatMap((b) =>
          productions.filter((p) => p.channel === b.exchange).flatMap((p) => p.messages.map((d) => d.type)),
        ),
      ]);
      for (const c of consumptions.filter((c) => c.channel === queue.name)) {
        for (const type of c.catalog.types()) expect(reaching, `${type} on ${queue.name}`).toContain(type);
      }
    }
    for (const c of consumptions.filter((c) => c.kind === 'topic')) {
      const produced = productions.filter((p) => p.channel === c.channel).flatMap((p) => p.messages.map((d) => d.type));
      for (const type of c.catalog.types()) expect(produced, `${type} on ${c.channel}`).toContain(type);
    }
  });

  it('holds schemas that accept every saved sample, with unknown fields too', () => {
    const doc = parse(generated) as { components: { schemas: Record<string, object> } };
    const ajv = new Ajv({ strict: false, validateFormats: false });
    for (const fixture of loadFixtures()) {
      const schema = doc.components.schemas[`${fixture.type}.v${fixture.version}`];
      expect(schema, fixture.file).toBeDefined();
      const body = JSON.parse(fixture.body) as Record<string, unknown>;
      expect(ajv.validate(schema!, { ...body, addedLater: true }), `${fixture.file}: ${ajv.errorsText()}`).toBe(true);
    }
    const record = JSON.parse(readFileSync(`${ROOT}fixtures/records/order-metrics.json`, 'utf8')) as object;
    expect(ajv.validate(doc.components.schemas['order-metrics.record']!, record), ajv.errorsText()).toBe(true);
  });
});
