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
