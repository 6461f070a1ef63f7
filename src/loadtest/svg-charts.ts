/**
 * The load test report's charts as inline SVG (no scripts, no network):
 * horizontal bars, a histogram and lines over time. Sizes follow the text
 * they hold, so no label or value is cut.
 */
const CHAR_PX = 7;

export const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

const svg = (width: number, height: number, title: string, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" font-family="sans-serif" font-size="12"><text x="4" y="16" font-weight="bold">${escapeHtml(title)}</text>${body}</svg>`;

export interface BarRow {
  readonly label: string;
  readonly value: number;
  readonly text: string;
  /** A bar of another kind (the remainder), drawn in grey. */
  readonly muted?: boolean;
}

/** Horizontal bars: one row per label, bar length proportional to value. */
export function barChart(title: string, rows: readonly BarRow[]): string {
  const rowHeight = 22;
  const labelWidth = Math.max(60, ...rows.map((row) => row.label.length * CHAR_PX)) + 12;
  const textWidth = Math.max(...rows.map((row) => row.text.length * CHAR_PX), 40) + 16;
  const barWidth = 420;
  const max = Math.max(...rows.map((row) => row.value), 1e-9);
  const bars = rows
    .map((row, index) => {
      const y = 26 + index * rowHeight;
      const width = Math.max(1, (row.value / max) * barWidth);
      return `<text x="${labelWidth - 6}" y="${y + 13}" text-anchor="end">${escapeHtml(row.label)}</text><rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="16" fill="${row.muted ? "#b0b0b0" : "#4a78c2"}"/><text x="${(labelWidth + width + 6).toFixed(1)}" y="${y + 13}">${escapeHtml(row.text)}</text>`;
    })
    .join("");
  return svg(Math.max(labelWidth + barWidth + textWidth, title.length * CHAR_PX + 16), 30 + rows.length * rowHeight, title, bars);
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

const PLOT = { left: 64, top: 40, width: 560, height: 200 };

function axes(xLabel: string, yLabel: string, xTicks: readonly [number, string][], yMax: number): string {
  const { left, top, width, height } = PLOT;
  const parts = [
    `<line x1="${left}" y1="${top + height}" x2="${left + width}" y2="${top + height}" stroke="#444"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + height}" stroke="#444"/>`,
  ];
  for (const [x, text] of xTicks)
    parts.push(`<text x="${(left + x * width).toFixed(1)}" y="${top + height + 16}" text-anchor="middle">${escapeHtml(text)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = top + height - (i / 4) * height;
    parts.push(`<text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${formatNumber((yMax * i) / 4)}</text>`);
    if (i > 0) parts.push(`<line x1="${left}" y1="${y.toFixed(1)}" x2="${left + width}" y2="${y.toFixed(1)}" stroke="#e4e4e4"/>`);
  }
  parts.push(`<text x="${left + width / 2}" y="${top + height + 34}" text-anchor="middle">${escapeHtml(xLabel)}</text>`);
  parts.push(
    `<text x="14" y="${top + height / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + height / 2})">${escapeHtml(yLabel)}</text>`,
  );
  return parts.join("");
}

function formatNumber(value: number): string {
  if (value === 0) return "0";
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** Columns over log-spaced latency buckets: how many calls took how long. */
export function histogramChart(title: string, buckets: readonly { fromMs: number; toMs: number; count: number }[]): string {
  const { left, top, width, height } = PLOT;
  const max = Math.max(1, ...buckets.map((bucket) => bucket.count));
  const column = width / Math.max(1, buckets.length);
  const bars = buckets
    .map((bucket, index) => {
      const h = (bucket.count / max) * height;
      return `<rect x="${(left + index * column + 1).toFixed(1)}" y="${(top + height - h).toFixed(1)}" width="${Math.max(1, column - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a78c2"><title>${formatNumber(bucket.fromMs)}–${formatNumber(bucket.toMs)} ms: ${bucket.count}</title></rect>`;
    })
    .join("");
  const step = Math.max(1, Math.ceil(buckets.length / 6));
  const ticks: [number, string][] = [];
  for (let i = 0; i <= buckets.length; i += step)
    ticks.push([
      i / Math.max(1, buckets.length),
      formatNumber(i < buckets.length ? buckets[i]!.fromMs : buckets[buckets.length - 1]!.toMs),
    ]);
  return svg(left + width + 40, top + height + 44, title, axes("latency, ms (log scale)", "calls", ticks, max) + bars);
}

/** Lines of `series` over x (s), each point a window. */
export function lineChart(title: string, yLabel: string, series: readonly Series[]): string {
  const { left, top, width, height } = PLOT;
  const xs = series.flatMap((line) => line.points.map((point) => point.x));
  const xMax = Math.max(1e-9, ...xs);
  const yMax = Math.max(1e-9, ...series.flatMap((line) => line.points.map((point) => point.y))) * 1.05;
  const lines = series
    .map((line) => {
      const path = line.points
        .map((point) => `${(left + (point.x / xMax) * width).toFixed(1)},${(top + height - (point.y / yMax) * height).toFixed(1)}`)
        .join(" ");
      return `<polyline points="${path}" fill="none" stroke="${line.color}" stroke-width="1.6"/>`;
    })
    .join("");
  const legend = series
    .map(
      (line, index) =>
        `<rect x="${left + 10 + index * 150}" y="26" width="12" height="3" fill="${line.color}"/><text x="${left + 26 + index * 150}" y="31">${escapeHtml(line.name)}</text>`,
    )
    .join("");
  const ticks: [number, string][] = [0, 0.25, 0.5, 0.75, 1].map((share) => [share, `${formatNumber(share * xMax)} s`]);
  return svg(left + width + 40, top + height + 44, title, axes("time since the load started", yLabel, ticks, yMax) + lines + legend);
}
