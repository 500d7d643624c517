import { writeFileSync } from 'node:fs';

export interface Bar {
  label: string;
  value: number;
  /** A second value drawn as a thin marker (for example the raw ceiling). */
  ceiling?: number;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Writes a horizontal bar chart as a self-contained SVG file. */
export function writeBarChart(file: string, title: string, unit: string, bars: readonly Bar[]): void {
  const rowHeight = 28;
  const left = 300;
  const width = 900;
  const plot = width - left - 120;
  const top = 40;
  const height = top + bars.length * rowHeight + 30;
  const max = Math.max(1, ...bars.flatMap((b) => [b.value, b.ceiling ?? 0]).filter((v) => Number.isFinite(v)));
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const w = Number.isFinite(bar.value) ? (bar.value / max) * plot : 0;
    const value = Number.isFinite(bar.value) ? Math.round(bar.value * 10) / 10 : 'n/a';
    const ceiling =
      bar.ceiling !== undefined && Number.isFinite(bar.ceiling)
        ? `<line x1="${left + (bar.ceiling / max) * plot}" x2="${left + (bar.ceiling / max) * plot}" y1="${y}" y2="${
            y + rowHeight - 8
          }" stroke="#c0392b" stroke-width="2"/>`
        : '';
    return (
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escape(bar.label)}</text>` +
      `<rect x="${left}" y="${y}" width="${w}" height="${rowHeight - 8}" fill="#2e86c1"/>` +
      ceiling +
      `<text x="${left + w + 6}" y="${y + 15}">${value} ${escape(unit)}</text>`
    );
  });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="10" y="22" font-size="15" font-weight="bold">${escape(title)}</text>` +
    rows.join('') +
    `<text x="10" y="${height - 8}" fill="#888">red marker: raw ceiling from the broker's own tool or a raw client</text>` +
    `</svg>\n`;
  writeFileSync(file, svg);
}

export interface Line {
  name: string;
  color: string;
  points: readonly { x: number; y: number }[];
}

/** Writes a line chart (x: seconds, y: one unit) as a self-contained SVG file. */
export function writeLineChart(file: string, title: string, xLabel: string, yLabel: string, lines: readonly Line[]) {
  const width = 900;
  const height = 420;
  const left = 70;
  const right = 20;
  const top = 50;
  const bottom = 50;
  const all = lines.flatMap((l) => l.points).filter((p) => Number.isFinite(p.y));
  const maxX = Math.max(1, ...all.map((p) => p.x));
  const maxY = Math.max(1, ...all.map((p) => p.y)) * 1.1;
  const sx = (x: number) => left + (x / maxX) * (width - left - right);
  const sy = (y: number) => top + (1 - y / maxY) * (height - top - bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = maxY * f;
    return (
      `<line x1="${left}" x2="${width - right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#e5e5e5"/>` +
      `<text x="${left - 6}" y="${sy(y) + 4}" text-anchor="end" fill="#444">${Math.round(y)}</text>`
    );
  });
  const xticks = [0, 0.25, 0.5, 0.75, 1].map(
    (f) =>
      `<text x="${sx(maxX * f)}" y="${height - bottom + 16}" text-anchor="middle" fill="#444">${Math.round(maxX * f)}</text>`,
  );
  const paths = lines.map((l, i) => {
    const d = l.points
      .filter((p) => Number.isFinite(p.y))
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join('');
    return (
      `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8"/>` +
      `<line x1="${left + 10}" x2="${left + 30}" y1="${top + 12 + i * 16}" y2="${top + 12 + i * 16}" stroke="${l.color}" stroke-width="2.5"/>` +
      `<text x="${left + 36}" y="${top + 16 + i * 16}">${escape(l.name)}</text>`
    );
  });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="${left}" y="24" font-size="15" font-weight="bold">${escape(title)}</text>` +
    ticks.join('') +
    xticks.join('') +
    `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="#999"/>` +
    paths.join('') +
    `<text x="${(left + width - right) / 2}" y="${height - 12}" text-anchor="middle">${escape(xLabel)}</text>` +
    `<text transform="translate(16 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>` +
    `</svg>\n`;
  writeFileSync(file, svg);
}
