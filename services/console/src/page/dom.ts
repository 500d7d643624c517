/** Small DOM helpers for the control room's page (no framework: the page is a few tables and two SVG drawings). */

import type { FaultMarkAt } from './fault-marks.js';

type Child = Node | string | number | null | undefined | false;

export function h(
  tag: string,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElement {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(
  tag: string,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Record<string, string | number | boolean | undefined>): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces the content of `#id` with `children`. */
export function show(id: string, ...children: Child[]): void {
  const el = document.getElementById(id);
  if (!el) return;
  el.replaceChildren();
  append(el, children);
}

export const fmt = {
  rate: (n: number | undefined) =>
    n === undefined ? '–' : n >= 100 ? `${Math.round(n)}/s` : n >= 0.05 ? `${n.toFixed(1)}/s` : '0/s',
  count: (n: number | undefined) => (n === undefined ? '–' : Math.round(n).toLocaleString('en')),
  seconds: (n: number | undefined) =>
    n === undefined || !Number.isFinite(n)
      ? '–'
      : n < 1
        ? '<1 s'
        : n < 120
          ? `${Math.round(n)} s`
          : `${Math.round(n / 60)} min`,
  time: (at: number | string) => new Date(at).toISOString().slice(11, 23),
};

/** Vertical lines at the ticks where faults went on (solid) and off (dashed), each titled with what changed. */
function faultLines(marks: readonly FaultMarkAt[], x: (i: number) => string, bottom: number): SVGElement[] {
  return marks.map((m) =>
    s(
      'line',
      {
        class: `fault ${m.on ? 'on' : 'off'}`,
        'data-fault-mark': m.on ? 'on' : 'off',
        x1: x(m.index),
        x2: x(m.index),
        y1: 0,
        y2: bottom,
      },
      s('title', {}, `${m.label} ${m.on ? 'on' : 'off'}`),
    ),
  );
}

/** A sparkline of `values` (the last minutes of one figure), with the faults that went on and off meanwhile. */
export function sparkline(
  values: readonly number[],
  className = 'spark',
  faults: readonly FaultMarkAt[] = [],
  width = 110,
  height = 20,
): SVGElement {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  return s(
    'svg',
    {
      class: className,
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `max ${Math.round(max)}`,
    },
    ...faultLines(faults, (i) => (i * step).toFixed(1), height),
    s('polyline', { points: points.join(' ') }),
  );
}

const COLORS = ['#58a6ff', '#3fb950', '#d29922', '#f778ba', '#a371f7', '#56d4dd'];

/**
 * Several lines on one chart (a group's lag per partition), with vertical markers at the given indexes (rebalances)
 * and the faults that went on and off.
 */
export function lineChart(
  series: { name: string; values: readonly number[] }[],
  markers: readonly number[],
  faults: readonly FaultMarkAt[] = [],
  width = 320,
  height = 70,
): SVGElement {
  const length = Math.max(2, ...series.map((x) => x.values.length));
  const max = Math.max(1, ...series.flatMap((x) => x.values));
  const x = (i: number) => ((i / (length - 1)) * (width - 30)).toFixed(1);
  const y = (v: number) => (height - 12 - (v / max) * (height - 16)).toFixed(1);
  return s(
    'svg',
    { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}` },
    ...markers.map((m) => s('line', { class: 'marker', x1: x(m), x2: x(m), y1: 0, y2: height - 12 })),
    ...faultLines(faults, x, height - 12),
    ...series.map((line, n) =>
      s('polyline', {
        stroke: COLORS[n % COLORS.length]!,
        points: line.values.map((v, i) => `${x(i)},${y(v)}`).join(' '),
      }),
    ),
    s('text', { x: width - 28, y: 10 }, fmt.count(max)),
    ...series.map((line, n) =>
      s('text', { x: 4 + n * 60, y: height - 1, fill: COLORS[n % COLORS.length]! }, line.name),
    ),
  );
}
