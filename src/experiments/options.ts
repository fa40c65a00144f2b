// An experiment's options, declared once: the CLI parses, checks and documents its flags from
// them, the web page builds its form from them, and a config from anywhere is checked against
// them. Every bad value is one sentence naming the flag (or the form's label) and what it must be.
// Browser-safe.

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type OptionValue = number | boolean | string | number[] | string[];

interface Common<K extends string> {
  /** The config field it sets. */
  key: K;
  /** The CLI flag in snake_case, in the vocabulary every experiment shares (--lr, --epochs or --steps, --batch_size, --seed); kebab-case is accepted too. */
  flag: string;
  /** Other spellings the CLI and sweep specs accept for it (the course's own, where it differs: --learning_rate). */
  aliases?: readonly string[];
  /** One line of --help (a "\n" continues it under the same column). */
  help: string;
  /** The placeholder --help shows for its value (N, X, ...). */
  arg?: string;
  /** The web form's label. */
  label: string;
  /** The web form shows it under "More options". */
  more?: boolean;
  /** Words the web form adds to its hint. */
  hint?: string;
}

export type OptionSpec<K extends string = string> =
  | (Common<K> & { type: 'int'; min: number; max?: number })
  /** `above`/`below` are open bounds, `min` a closed one. */
  | (Common<K> & { type: 'number'; min?: number; above?: number; below?: number })
  /** A switch; `negated`: giving the flag sets the field false (`--no_shared_embeddings`). */
  | (Common<K> & { type: 'bool'; negated?: boolean })
  /** Comma-separated positive integers. */
  | (Common<K> & { type: 'list' })
  /** Comma-separated names (columns, tasks); empty means the default the help states. */
  | (Common<K> & { type: 'names' })
  /** Comma-separated numbers >= 0 (loss weights); empty means the default the help states. */
  | (Common<K> & { type: 'numbers' })
  | (Common<K> & { type: 'choice'; choices: readonly string[] });

/** What a valid value is, for "--flag must be <this>". */
export function expected(o: OptionSpec): string {
  switch (o.type) {
    case 'int':
      return `an integer from ${o.min}${o.max !== undefined ? ` to ${o.max}` : ' up'}`;
    case 'number':
      if (o.above !== undefined && o.below !== undefined) return `a number between ${o.above} and ${o.below}`;
      if (o.above !== undefined) return `a number > ${o.above}`;
      if (o.min !== undefined) return `a number >= ${o.min}`;
      if (o.below !== undefined) return `a number < ${o.below}`;
      return 'a number';
    case 'bool':
      return 'true or false';
    case 'list':
      return 'a comma-separated list of positive integers';
    case 'names':
      return 'a comma-separated list of names';
    case 'numbers':
      return 'a comma-separated list of numbers >= 0';
    case 'choice':
      return o.choices.length > 1 ? `${o.choices.slice(0, -1).join(', ')} or ${o.choices[o.choices.length - 1]}` : o.choices[0];
  }
}

/** Whether a config value fits the option. */
export function fits(o: OptionSpec, v: unknown): boolean {
  switch (o.type) {
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= o.min && (o.max === undefined || v <= o.max);
    case 'number':
      return (
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (o.min === undefined || v >= o.min) &&
        (o.above === undefined || v > o.above) &&
        (o.below === undefined || v < o.below)
      );
    case 'bool':
      return typeof v === 'boolean';
    case 'list':
      return Array.isArray(v) && v.length > 0 && v.every((n) => Number.isSafeInteger(n) && n >= 1);
    case 'names':
      return Array.isArray(v) && v.every((n) => typeof n === 'string' && n !== '' && !n.includes(','));
    case 'numbers':
      return Array.isArray(v) && v.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0);
    case 'choice':
      return typeof v === 'string' && o.choices.includes(v);
  }
}

/**
 * A value typed by a person (a flag's text, a form field), parsed and checked; `name` is how the
 * message names the input (the flag by default, the form's label on the page).
 */
export function parseOption(o: Exclude<OptionSpec, { type: 'bool' }>, text: string, name = `--${o.flag}`): OptionValue {
  const raw = text.trim();
  let v: OptionValue;
  if (o.type === 'list') v = raw.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
  else if (o.type === 'names') v = raw === '' ? [] : raw.split(',').map((s) => s.trim());
  else if (o.type === 'numbers') v = raw === '' ? [] : raw.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  else if (o.type === 'choice') v = raw;
  else v = raw === '' ? NaN : Number(raw);
  if (!fits(o, v)) throw new ConfigError(`${name} must be ${expected(o)}, not "${text}"`);
  const f32 = notF32(o, v);
  if (f32) throw new ConfigError(`${name} ${text} ${f32}`);
  return v;
}

/** The largest finite 32-bit float, and the smallest above 0 (a subnormal). */
const F32_MAX = 3.4028234663852886e38;
const F32_MIN = 1.401298464324817e-45;

/**
 * Why a number option's value cannot reach the GPU as the user meant it: the kernels compute in
 * 32-bit floats, where --regression_weight 1e300 is infinity and --lr 1e-300 is 0.
 */
function notF32(o: OptionSpec, v: unknown): string | undefined {
  if (o.type !== 'number' && o.type !== 'numbers') return undefined;
  const values = (Array.isArray(v) ? v : [v]) as number[];
  if (values.some((x) => Math.abs(x) > F32_MAX)) return "is beyond the GPU's 32-bit floats (their largest is 3.4e38); use a value many orders of magnitude smaller";
  if (values.some((x) => x !== 0 && Math.abs(x) < F32_MIN)) return "is 0 in the GPU's 32-bit floats (their smallest above 0 is 1.4e-45); use a larger value";
  return undefined;
}

/** Every option's field of a config checked on its own: one sentence naming the flag. */
export function checkOptions(options: readonly OptionSpec[], config: object): void {
  const c = config as Record<string, unknown>;
  for (const o of options) {
    const v = c[o.key];
    if (!fits(o, v)) throw new ConfigError(`--${o.flag} must be ${expected(o)}, not ${JSON.stringify(Array.isArray(v) ? v.join(',') : v)}`);
    const f32 = notF32(o, v);
    if (f32) throw new ConfigError(`--${o.flag} ${formatValue(v)} ${f32}`);
  }
}

/** A config value as a person writes it (lists comma-separated). */
export function formatValue(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

export const kebab = (flag: string): string => flag.replaceAll('_', '-');

/** The options' rows of --help: [`--flag ARG`, `help (default D)`]; an option without a default (a predict flag such as --user) has no "(default ...)". */
export function optionsHelp(options: readonly OptionSpec[], defaults: object): [string, string][] {
  const d = defaults as Record<string, unknown>;
  return options.map((o) => [
    `--${o.flag}${o.type === 'bool' ? '' : ` ${o.arg ?? argName(o)}`}${o.aliases?.length ? ` (or ${o.aliases.map((a) => `--${a}`).join(', ')})` : ''}`,
    o.type === 'bool' || d[o.key] === undefined || formatValue(d[o.key]) === '' ? o.help : `${o.help} (default ${formatValue(d[o.key])})`,
  ]);
}

function argName(o: OptionSpec): string {
  return o.type === 'int' ? 'N' : o.type === 'number' ? 'X' : o.type === 'list' ? 'A,B,...' : o.type === 'names' ? 'A,B,...' : o.type === 'numbers' ? 'X,Y,...' : o.type === 'choice' ? 'NAME' : '';
}
