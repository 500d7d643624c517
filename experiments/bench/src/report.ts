/**
 * The bench's result file (`experiments/results/bench.json`) and the table docs/benchmarks.md shows, rendered from
 * that file alone (tests/docs/results.unit.spec.ts checks the page against it). A run of some sections
 * (`--only kafka,saga`) replaces those sections' figures in the file and keeps the others', each section with the
 * time, duration and load average of the run that measured it.
 */
import { fmt, pct, ratio } from './stats.js';

/** One figure: its value, the raw ceiling it is compared with, and how both were measured. */
export interface Figure {
  /** The bench section that measured it (brokers, intake, saga, kafka, peers, outbox, soak). */
  section?: string;
  value: number | undefined;
  unit: string;
  ceiling?: number | undefined;
  ceilingSource?: string;
  ratio?: number | undefined;
  target?: string;
  meetsTarget?: boolean;
  method: string;
  /** Shown in the article's table of the brokers, not in the figures table. */
  inArticleTable?: boolean;
  /** Cells of the docs table said otherwise than from value, ceiling and ratio (latencies, ratios to a peer). */
  display?: { measured?: string; ceiling?: string; ratio?: string };
}

/** One section as last measured: when, how long the run took, the machine's load, what it noted. */
export interface SectionRun {
  ranAt: string;
  minutes: number;
  loadavg: string[];
  notes: string[];
}

export interface BrokerTable {
  rabbit?: { throughput: number; latencyP50: number; latencyP99: number; replay?: number; replayMessages?: number };
  kafka?: {
    throughput: number;
    consume: number;
    latencyP50: number;
    latencyP99: number;
    replay: number;
    replayMessages?: number;
  };
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  java: string;
  postgres: string;
  rabbitmq: string;
  kafka: string;
  perfTest: string;
  loadavg: string[];
}

export interface BenchResult {
  ranAt: string;
  machine: Machine;
  settings: Record<string, number>;
  messageSize: number;
  figures: Record<string, Figure>;
  brokers: BrokerTable;
  /** Notes of a file written before sections kept their own. */
  notes: string[];
  sections?: Record<string, SectionRun>;
}

/** The sections in the order the bench runs them, which is the table's order. */
export const SECTIONS = ['brokers', 'intake', 'saga', 'kafka', 'peers', 'outbox', 'soak'] as const;

/** The section of a figure; for a file written before figures named theirs, from the figure's name. */
export function sectionOf(name: string, figure: Figure): string {
  if (figure.section) return figure.section;
  if (name.startsWith('rabbitmq.') || name.startsWith('kafka.')) return 'brokers';
  if (name.startsWith('(a)')) return 'intake';
  if (name.startsWith('(b)') || (name.startsWith('(g)') && name.includes('under the saga load'))) return 'saga';
  if (name.startsWith('(g)')) return 'soak';
  if (name.startsWith('(c)') || name.startsWith('(d)')) return 'kafka';
  if (name.startsWith('peers/')) return 'peers';
  if (name.startsWith('(f)')) return 'outbox';
  return 'other';
}

/** The sections of a file, each with its run (a file written before sections kept their own: its one run). */
function sectionsOf(result: BenchResult): Record<string, SectionRun> {
  if (result.sections) return result.sections;
  const legacy: Record<string, SectionRun> = {};
  for (const [name, figure] of Object.entries(result.figures)) {
    legacy[sectionOf(name, figure)] ??= {
      ranAt: result.ranAt,
      minutes: Number.NaN,
      loadavg: result.machine.loadavg,
      notes: [],
    };
  }
  return legacy;
}

const order = (section: string) => {
  const i = (SECTIONS as readonly string[]).indexOf(section);
  return i < 0 ? SECTIONS.length : i;
};

/**
 * The file after a run of the sections `ran`: their figures, brokers table and notes from `run`, every other
 * section's from `previous`, in the bench's order of sections.
 */
export function mergeBench(previous: BenchResult | undefined, run: BenchResult, ran: readonly string[]): BenchResult {
  const kept = Object.entries(previous?.figures ?? {}).filter(([name, f]) => !ran.includes(sectionOf(name, f)));
  const keptFigures = kept.map(([name, f]): [string, Figure] => [name, { ...f, section: sectionOf(name, f) }]);
  const figures = [...keptFigures, ...Object.entries(run.figures)]
    .map((entry, i) => ({ entry, i }))
    .sort((a, b) => order(sectionOf(...a.entry)) - order(sectionOf(...b.entry)) || a.i - b.i)
    .map(({ entry }) => entry);
  const sections = Object.fromEntries(
    Object.entries({
      ...(previous ? sectionsOf(previous) : {}),
      ...Object.fromEntries(Object.entries(sectionsOf(run)).filter(([s]) => ran.includes(s))),
    }).sort(([a], [b]) => order(a) - order(b)),
  );
  for (const s of ran) if (!sections[s] && run.sections?.[s]) sections[s] = run.sections[s];
  return {
    ...run,
    figures: Object.fromEntries(figures),
    brokers: ran.includes('brokers') ? run.brokers : (previous?.brokers ?? {}),
    notes: [],
    sections,
  };
}

/** The figures table, the article's table (when the brokers were measured) and the notes, as Markdown. */
export function benchSummary(result: BenchResult): string {
  const info = result.machine;
  const sections = sectionsOf(result);
  const runs = Object.entries(sections).map(
    ([name, s]) =>
      `${name} ${s.ranAt.slice(0, 16).replace('T', ' ')} UTC${Number.isFinite(s.minutes) ? ` (${fmt(s.minutes)} min)` : ''}, load average ${s.loadavg.join(' ')}`,
  );
  const rows = Object.entries(result.figures)
    .filter(([name, f]) => !(f.inArticleTable ?? (name.startsWith('rabbitmq.') || name.startsWith('kafka.'))))
    .map(([name, f]) => {
      const r = f.ratio ?? ratio(f.value, f.ceiling);
      return [
        name,
        f.display?.measured ?? `${fmt(f.value)} ${f.unit}`,
        f.display?.ceiling ?? (f.ceiling === undefined ? '' : `${fmt(f.ceiling)} ${f.unit}`),
        f.display?.ratio ?? (f.ceiling === undefined && f.ratio === undefined ? '' : pct(r)),
        f.target ? `${f.target}: ${f.meetsTarget ? 'met' : 'NOT met'}` : '',
      ];
    });
  const notes = [...result.notes, ...Object.values(sections).flatMap((s) => s.notes)];
  return [
    `On ${info.cpus} × ${info.cpuModel}, ${info.memoryGiB} GiB, ${info.os}; Node ${info.node}, ${info.java}, RabbitMQ ${info.rabbitmq}, Kafka ${info.kafka}, ${info.postgres}. Message size ${result.messageSize} B (a PlaceOrder envelope). Each section as last run (when, how long, load average at its end): ${runs.join('; ')}.`,
    '',
    '| figure | measured | raw ceiling | ratio | target |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...(result.brokers.rabbit || result.brokers.kafka
      ? ["The article's table, measured:", '', ...articleTable(result), '']
      : []),
    ...(notes.length ? ['Notes:', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

function articleTable(result: BenchResult): string[] {
  const r = result.brokers.rabbit;
  const k = result.brokers.kafka;
  const size = result.messageSize;
  return [
    '| | article: RabbitMQ | measured: RabbitMQ | article: Kafka | measured: Kafka |',
    '|---|---|---|---|---|',
    `| throughput (msg/s, ${size} B, persistent+confirmed / acks=all) | 10K–50K per node | ${fmt(r?.throughput)} (PerfTest, 1 producer + 1 consumer) | 100K–1M+ | ${fmt(k?.throughput)} produce (ProducerPerformance), ${fmt(k?.consume)} consume |`,
    `| end-to-end latency p50 / p99 | lower (push) | ${fmt(r?.latencyP50, 2)} / ${fmt(r?.latencyP99, 2)} ms at 1,000 msg/s | slightly higher (poll) | ${fmt(k?.latencyP50, 2)} / ${fmt(k?.latencyP99, 2)} ms one at a time |`,
    `| replay | no (messages deleted after ack) | classic/quorum: impossible; stream: ${r?.replay === undefined ? 'not measured' : `${fmt(r.replay)} msg/s over ${fmt(r.replayMessages)} messages`} | yes (offset-based) | ${fmt(k?.replay)} msg/s over the last ${fmt(k?.replayMessages)} messages |`,
  ];
}
