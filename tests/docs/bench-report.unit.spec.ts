import { describe, expect, it } from 'vitest';
import { benchSummary, mergeBench, type BenchResult, type Figure } from '../../experiments/bench/src/report.js';

// A bench run of some sections (`npm run bench -- --only kafka,saga`) replaces their figures in bench.json and
// keeps every other section's, each with the run that measured it.
const machine: BenchResult['machine'] = {
  cpus: 2,
  cpuModel: 'CPU',
  memoryGiB: 8,
  os: 'Linux',
  node: 'v24',
  java: 'java',
  postgres: 'pg',
  rabbitmq: 'rmq',
  kafka: 'k',
  perfTest: 'p',
  loadavg: ['1.00', '1.00', '1.00'],
};
const fig = (value: number, extra: Partial<Figure> = {}): Figure => ({ value, unit: 'x/s', method: 'm', ...extra });
const result = (ranAt: string, figures: Record<string, Figure>, extra: Partial<BenchResult> = {}): BenchResult => ({
  ranAt,
  machine,
  settings: {},
  messageSize: 499,
  figures,
  brokers: {},
  notes: [],
  ...extra,
});

describe('bench.json across runs of some sections', () => {
  // Written before figures named their section: the section comes from the figure's name.
  const full = result(
    '2026-12-01T10:00:00.000Z',
    {
      'kafka.producer-perf': fig(100_000),
      '(a) intake POST /orders accepted durably': fig(2_000),
      '(b) saga completed orders sustained': fig(90),
      '(c) analytics consumption of order-events': fig(17_000),
      '(d) analytics replay from offset 0': fig(21_000),
      'peers/kafka: project KafkaGroupConsumer': fig(8_000),
    },
    { brokers: { kafka: { throughput: 1, consume: 2, latencyP50: 3, latencyP99: 4, replay: 5 } } },
  );
  const kafkaRun = result(
    '2026-12-03T08:00:00.000Z',
    { '(c) analytics consumption of order-events': fig(40_000, { section: 'kafka' }) },
    {
      sections: { kafka: { ranAt: '2026-12-03T08:00:00.000Z', minutes: 1.5, loadavg: ['2.00'], notes: ['a note'] } },
    },
  );
  const merged = mergeBench(full, kafkaRun, ['kafka']);

  it("replaces the sections that ran, the figures they did not measure again included, and keeps the others'", () => {
    expect(Object.keys(merged.figures)).toEqual([
      'kafka.producer-perf',
      '(a) intake POST /orders accepted durably',
      '(b) saga completed orders sustained',
      '(c) analytics consumption of order-events',
      'peers/kafka: project KafkaGroupConsumer',
    ]);
    expect(merged.figures['(c) analytics consumption of order-events']!.value).toBe(40_000);
    expect(merged.figures['(b) saga completed orders sustained']).toMatchObject({ value: 90, section: 'saga' });
    expect(merged.brokers.kafka?.throughput).toBe(1);
  });

  it('keeps each section with the run that measured it', () => {
    expect(merged.sections?.kafka).toMatchObject({ ranAt: '2026-12-03T08:00:00.000Z', notes: ['a note'] });
    expect(merged.sections?.saga?.ranAt).toBe('2026-12-01T10:00:00.000Z');
    const table = benchSummary(merged);
    expect(table).toContain('kafka 2026-12-03 08:00 UTC (1.5 min), load average 2.00');
    expect(table).toContain('saga 2026-12-01 10:00 UTC, load average 1.00 1.00 1.00');
    expect(table).toContain('| (c) analytics consumption of order-events | 40,000 x/s |');
    expect(table).toContain('- a note');
    // The brokers' figures are in the article's table, not in the figures table.
    expect(table).not.toContain('| kafka.producer-perf |');
  });

  it('a full run keeps nothing of the file before it', () => {
    const fresh = mergeBench(undefined, kafkaRun, ['kafka']);
    expect(Object.keys(fresh.figures)).toEqual(['(c) analytics consumption of order-events']);
    expect(fresh.brokers).toEqual({});
  });
});
