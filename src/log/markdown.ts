// Markdown tables for experiment reports, padded so they read as well in a terminal as they
// render on GitHub, and the number formats the reports use.

export type Align = 'left' | 'right' | 'center';
export type Cell = string | number | null | undefined;

/** A number as a report shows it: integers whole, others to at most 4 significant digits. */
export function formatCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return nonFinite(v);
  // Four significant digits without trailing zeros: 0.9 stays "0.9".
  return String(Number(v.toPrecision(4)));
}

/** `digits` decimals: fixed(0.41234, 3) = "0.412". NaN and infinities are spelled out. */
export function fixed(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  return normalizeZero(v.toFixed(digits));
}

/** `digits` significant digits, without exponents for everyday magnitudes: sig(1234.5, 3) = "1230". */
export function sig(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  if (v === 0) return '0';
  // Round first: 0.99996 to 4 digits is 1.000, whose magnitude is that of 1.
  const rounded = Number(v.toPrecision(digits));
  const magnitude = Math.floor(Math.log10(Math.abs(rounded)));
  if (magnitude < -4 || magnitude >= 9) return v.toExponential(digits - 1);
  return normalizeZero(rounded.toFixed(Math.max(0, digits - 1 - magnitude)));
}

/** A fraction as a percentage: percent(0.1234) = "12.3%". */
export function percent(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return nonFinite(fraction);
  return `${fixed(fraction * 100, digits)}%`;
}

/** A difference with its sign: signed(0.0123) = "+0.012", signed(-2, 1) = "−2.0". */
export function signed(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  const s = fixed(Math.abs(v), digits);
  if (Number(s) === 0) return s;
  return v > 0 ? `+${s}` : `−${s}`;
}

/** mean ± standard deviation over seeds: meanStd(0.4123, 0.0101) = "0.412 ± 0.010". */
export function meanStd(mean: number, std: number, digits = 3): string {
  return `${fixed(mean, digits)} ± ${fixed(std, digits)}`;
}

/** A duration: 0.25 → "250 ms", 75 → "1 min 15 s", 3725 → "1 h 02 min". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return nonFinite(seconds);
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${sig(seconds, 3)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function nonFinite(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '∞' : v < 0 ? '−∞' : String(v);
}

/** toFixed gives "-0.000" for tiny negatives: a report shows "0.000". */
function normalizeZero(s: string): string {
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Pipes would end the cell and newlines the row. */
function escapeCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/**
 * A GitHub-flavoured Markdown table. Numbers go through formatCell (pass strings from the
 * helpers above for other formats). Columns default to right-aligned when every filled cell
 * is a number, else left-aligned.
 */
export function markdownTable(headers: string[], rows: Cell[][], align?: Align[]): string {
  const n = headers.length;
  if (n === 0) throw new RangeError('a Markdown table needs at least one column');
  if (align && align.length !== n) throw new RangeError(`markdownTable: ${align.length} alignments for ${n} columns`);
  rows.forEach((r, i) => {
    if (r.length !== n) throw new RangeError(`markdownTable: row ${i + 1} has ${r.length} cells, the header has ${n}`);
  });
  const aligns: Align[] =
    align ??
    headers.map((_, c) => {
      const filled = rows.map((r) => r[c]).filter((v) => v !== null && v !== undefined && v !== '');
      return filled.length > 0 && filled.every((v) => typeof v === 'number') ? 'right' : 'left';
    });
  const text = [headers.map(escapeCell), ...rows.map((r) => r.map((v) => escapeCell(formatCell(v))))];
  // Width in code points, so "±" and "−" count as one column like the ASCII around them.
  const len = (s: string): number => [...s].length;
  const widths = headers.map((_, c) => Math.max(3, ...text.map((r) => len(r[c]))));
  const pad = (s: string, c: number): string => {
    const room = widths[c] - len(s);
    if (aligns[c] === 'right') return ' '.repeat(room) + s;
    if (aligns[c] === 'center') return ' '.repeat(Math.floor(room / 2)) + s + ' '.repeat(Math.ceil(room / 2));
    return s + ' '.repeat(room);
  };
  const line = (cells: string[]): string => `| ${cells.map(pad).join(' | ')} |`;
  const rule = widths.map((w, c) => {
    const a = aligns[c];
    if (a === 'right') return '-'.repeat(w - 1) + ':';
    if (a === 'center') return ':' + '-'.repeat(w - 2) + ':';
    return '-'.repeat(w);
  });
  return [line(text[0]), `| ${rule.join(' | ')} |`, ...text.slice(1).map(line)].join('\n') + '\n';
}
