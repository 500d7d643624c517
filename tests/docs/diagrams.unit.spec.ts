import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { topics, topologyMermaid } from '@am/messaging';
import { sagaMermaid } from '../../services/orders/src/order-saga/order-saga.diagram.js';
import { ROOT, loadConsumptions } from '../contracts/consumers.js';
import { ORDER_METRICS_GROUP } from '../../services/analytics/src/order-metrics/order-metrics.loop.js';

// The diagrams in the docs are generated from the code and checked here, so they cannot drift.
// `npm run docs:diagrams` (WRITE_DIAGRAMS=1) rewrites them instead.
const REGENERATE = 'npm run docs:diagrams';

const diagrams: { file: string; name: string; render: () => string }[] = [
  { file: 'docs/design.md', name: 'topology', render: topologyMermaid },
  { file: 'docs/saga.md', name: 'saga', render: sagaMermaid },
];

/** The text between `<!-- diagram:name:begin -->` and `<!-- diagram:name:end -->`, as a fenced Mermaid block. */
function block(text: string, name: string): { start: number; end: number } | undefined {
  const begin = `<!-- diagram:${name}:begin -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(`<!-- diagram:${name}:end -->`);
  return a < 0 || b < a ? undefined : { start: a + begin.length, end: b };
}

const fenced = (mermaid: string) => `\n\`\`\`mermaid\n${mermaid}\n\`\`\`\n`;

describe('diagrams in the docs', () => {
  for (const { file, name, render } of diagrams) {
    it(`${file}: the ${name} diagram is what the code generates today`, () => {
      const full = path.join(ROOT, file);
      const text = readFileSync(full, 'utf8');
      const where = block(text, name);
      expect(where, `${file} has no <!-- diagram:${name}:begin/end --> markers`).toBeDefined();
      const wanted = fenced(render());
      if (process.env.WRITE_DIAGRAMS === '1') {
        writeFileSync(full, text.slice(0, where!.start) + wanted + text.slice(where!.end));
        return;
      }
      expect(text.slice(where!.start, where!.end) === wanted, `${file} is out of date: run \`${REGENERATE}\``).toBe(
        true,
      );
    });
  }

  it("the saga diagram reaches every step, both endings and the timeout's compensations", () => {
    const mermaid = sagaMermaid();
    for (const step of ['reserve_inventory', 'process_payment', 'CONFIRMED', 'CANCELLED']) {
      expect(mermaid).toContain(step);
    }
    expect(mermaid).toContain(
      'process_payment --> CANCELLED: deadline passed / send payment.refund, send inventory.release, cancel (timeout)',
    );
  });

  it("the topology's Kafka consumer groups are the ones the services subscribe with", async () => {
    const declared = topics.flatMap((t) => t.groups.map((g) => `${t.name}/${g.groupId}/${g.consumer}`)).sort();
    const subscribed = (await loadConsumptions())
      .filter((c) => c.kind === 'topic')
      .map((c) => `${c.channel}/${c.group}/${c.service}`);
    // The exactly-once loop reads with a kafkajs consumer of its own rather than a subscription file.
    const loop = `order-events/${ORDER_METRICS_GROUP}/analytics`;
    expect(declared).toEqual([...subscribed, loop].sort());
  });
});
