import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Series {
  name: string;
  color: string;
  points: readonly { t: number; v: number }[];
  /** Draw as steps (a rate per bucket) rather than a sloped line. */
  step?: boolean;
  dashed?: boolean;
}

export interface Panel {
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (a capacity, a bound, a prediction). */
  marks?: { v: number; label: string; color?: string }[];
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  panels: Panel[];
  /** Vertical reference lines, at x values. */
  xMarks?: { t: number; label: string }[];
  width?: number;
  panelHeight?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" axis step (1, 2 or 5 × 10^n) that gives about `ticks` ticks over `span`. */
export function niceStep(span: number, ticks = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? `${(v / 1000).toLocaleString('en', { maximumFractionDigits: 1 })}k` : `${+v.toFixed(2)}`;

/**
 * Renders line charts as a self-contained SVG: one or more panels stacked over a shared time axis. Plain
 * string building, no browser and no dependency.
 */
export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 900;
  const panelHeight = spec.panelHeight ?? 220;
  const left = 70;
  const right = 20;
  const top = spec.subtitle ? 62 : 44;
  const gap = 48;
  const height = top + spec.panels.length * (panelHeight + gap) + 10;
  const all = spec.panels.flatMap((p) => p.series.flatMap((s) => s.points));
  const xMax = Math.max(1, ...all.map((p) => p.t), ...(spec.xMarks ?? []).map((m) => m.t));
  const xStep = niceStep(xMax, 10);
  const xEnd = Math.ceil(xMax / xStep) * xStep;
  const plotW = width - left - right;
  const x = (t: number) => left + (t / xEnd) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="16" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  if (spec.subtitle) out.push(`<text x="${left}" y="42" fill="#555">${esc(spec.subtitle)}</text>`);

  spec.panels.forEach((panel, index) => {
    const y0 = top + index * (panelHeight + gap);
    const values = [...panel.series.flatMap((s) => s.points.map((p) => p.v)), ...(panel.marks ?? []).map((m) => m.v)];
    const yMaxRaw = Math.max(1, ...values);
    const yStep = niceStep(yMaxRaw, 5);
    const yEnd = Math.ceil(yMaxRaw / yStep) * yStep;
    const y = (v: number) => y0 + panelHeight - (v / yEnd) * panelHeight;
    out.push(`<g>`);
    for (let v = 0; v <= yEnd + 1e-9; v += yStep) {
      out.push(
        `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
        `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#444">${fmt(v)}</text>`,
      );
    }
    for (let t = 0; t <= xEnd + 1e-9; t += xStep) {
      out.push(
        `<line x1="${x(t)}" x2="${x(t)}" y1="${y0}" y2="${y0 + panelHeight}" stroke="#f0f0f0"/>`,
        `<text x="${x(t)}" y="${y0 + panelHeight + 15}" text-anchor="middle" fill="#444">${fmt(t)}</text>`,
      );
    }
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotW}" height="${panelHeight}" fill="none" stroke="#999"/>`,
      `<text transform="translate(16 ${y0 + panelHeight / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(panel.yLabel)}</text>`,
    );
    for (const mark of panel.marks ?? []) {
      const color = mark.color ?? '#888';
      out.push(
        `<line x1="${left}" x2="${width - right}" y1="${y(mark.v)}" y2="${y(mark.v)}" stroke="${color}" stroke-dasharray="6 4"/>`,
        `<text x="${width - right - 4}" y="${y(mark.v) - 4}" text-anchor="end" fill="${color}">${esc(mark.label)}</text>`,
      );
    }
    for (const mark of spec.xMarks ?? []) {
      out.push(
        `<line x1="${x(mark.t)}" x2="${x(mark.t)}" y1="${y0}" y2="${y0 + panelHeight}" stroke="#aaa" stroke-dasharray="3 3"/>`,
        `<text x="${x(mark.t) + 3}" y="${y0 + 12}" fill="#666">${esc(mark.label)}</text>`,
      );
    }
    for (const series of panel.series) {
      if (series.points.length === 0) continue;
      const d: string[] = [];
      series.points.forEach((p, i) => {
        const px = x(p.t).toFixed(1);
        const py = y(p.v).toFixed(1);
        if (i === 0) d.push(`M${px},${py}`);
        else if (series.step) d.push(`H${px}V${py}`);
        else d.push(`L${px},${py}`);
      });
      out.push(
        `<path d="${d.join('')}" fill="none" stroke="${series.color}" stroke-width="1.8"${series.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      );
    }
    // Legend, top left inside the panel.
    panel.series.forEach((series, i) => {
      const ly = y0 + 16 + i * 16;
      out.push(
        `<line x1="${left + 10}" x2="${left + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.color}" stroke-width="2.5"/>`,
        `<text x="${left + 36}" y="${ly}" fill="#222">${esc(series.name)}</text>`,
      );
    });
    out.push(`</g>`);
  });
  const lastBottom = top + (spec.panels.length - 1) * (panelHeight + gap) + panelHeight;
  out.push(
    `<text x="${left + plotW / 2}" y="${lastBottom + 32}" text-anchor="middle" fill="#222">${esc(spec.xLabel)}</text>`,
    `</svg>`,
  );
  return out.join('\n') + '\n';
}

export function writeChart(file: string, spec: ChartSpec): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, renderChart(spec));
}
