/** One sample of the Prometheus text format: `name{label="value",...} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses the text a service's `/metrics` answers (prom-client's exposition format). Comments and lines it cannot read
 * are skipped; label values are unescaped (`\\`, `\"`, `\n`).
 */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key!] = raw!.replace(/\\(["\\n])/g, (_all, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The values of metric `name` keyed by one of its labels (summed over the other labels). */
export function byLabel(samples: readonly Sample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = s.labels[label];
    if (key === undefined) continue;
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** The first value of metric `name` (a gauge without labels), if the service reports it. */
export function single(samples: readonly Sample[], name: string): number | undefined {
  return samples.find((s) => s.name === name)?.value;
}

/**
 * Per-second rates from two readings of counters: `(now - before) / seconds`, per key. A counter that went down (the
 * process restarted) counts from zero; a key seen for the first time has no rate yet (0).
 */
export function rates(
  before: Record<string, number> | undefined,
  now: Record<string, number>,
  seconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(now)) {
    const previous = before?.[key];
    if (previous === undefined || seconds <= 0) out[key] = 0;
    else out[key] = (value >= previous ? value - previous : value) / seconds;
  }
  return out;
}

/**
 * The fault switches a service reports on (`faults_active{kind,source,by}`, 1 per switch): one mark per switch, so two
 * of the same kind on the same source by the same operator give two marks.
 */
export function activeFaults(samples: readonly Sample[]): { kind: string; source: string; by: string }[] {
  return samples
    .filter((s) => s.name === 'faults_active' && s.value > 0)
    .flatMap((s) =>
      Array.from({ length: Math.min(Math.round(s.value), 100) }, () => ({
        kind: s.labels.kind ?? '?',
        source: s.labels.source ?? '',
        by: s.labels.by ?? '?',
      })),
    );
}
