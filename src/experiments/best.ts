// The best evaluation of a run by one metric (--keep_best), and how long since it improved
// (--early_stop). Browser-safe.
import { ConfigError } from './options.ts';
import type { Evaluation, MetricSpec } from './types.ts';

/** A metric named by its key (testMse) or its tag (eval/MSE), case and spelling of separators aside. */
export function metricNamed(metrics: readonly MetricSpec[], name: string, flag = '--keep_best'): MetricSpec {
  const norm = (s: string): string => s.toLowerCase().replace(/[\s_/-]+/g, '');
  const m = metrics.find((x) => norm(x.key) === norm(name) || norm(x.tag) === norm(name));
  if (!m) throw new ConfigError(`${flag} must name one of this run's metrics (${metrics.map((x) => x.tag).join(', ')}), not "${name}"`);
  return m;
}

export class Best {
  /** The best evaluation so far: its units trained and value. */
  at: number | null = null;
  value: number | null = null;
  /** Evaluations since the best (0 right after an improvement). */
  since = 0;

  constructor(readonly metric: MetricSpec) {}

  /** Takes an evaluation; true when it is a new best (ties keep the earlier one). */
  offer(e: Evaluation): boolean {
    const v = e.values[this.metric.key];
    if (typeof v !== 'number' || !Number.isFinite(v)) return false;
    const better = this.value === null || (this.metric.better === 'higher' ? v > this.value : v < this.value);
    if (!better) {
      this.since++;
      return false;
    }
    this.at = e.at;
    this.value = v;
    this.since = 0;
    return true;
  }
}
