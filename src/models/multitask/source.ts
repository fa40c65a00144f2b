// Where a multi-task run's table comes from: the files a front end read (--data, or the files
// chosen on the page), built into a table by the config's data settings. A preset builds one
// table per distinct setting (the synthetic sweep's ρ, the auxiliary sweep's main rows) and
// every run of the same setting reuses it.
import { fingerprint, fingerprintText, type DataFingerprint } from '../../data/fingerprint.ts';
import { buildTabular } from '../../data/tabular/build.ts';
import type { TabularData, TabularFile, TabularSettings } from '../../data/tabular.ts';
import type { CheckpointData } from '../../graph/checkpoint.ts';
import type { MultitaskConfig } from './config.ts';

export interface TabularSource {
  files: TabularFile[];
}

const SETTINGS: readonly (keyof TabularSettings)[] = ['dataset', 'tasks', 'labels', 'taskKinds', 'categorical', 'continuous', 'seed', 'rho', 'c', 'm', 'd', 'rows', 'auxRows', 'mainRows'];

const built = new WeakMap<TabularSource, Map<string, TabularData>>();

/** The table of `c`'s data settings over `source`'s files, built once per setting. */
export function tableFor(c: MultitaskConfig, source: TabularSource): TabularData {
  const settings = Object.fromEntries(SETTINGS.map((k) => [k, c[k]])) as unknown as TabularSettings;
  const key = JSON.stringify(settings);
  let cache = built.get(source);
  if (!cache) built.set(source, (cache = new Map()));
  const found = cache.get(key);
  if (found) return found;
  // A sweep holds a few tables at most; more would only be memory kept for nothing.
  if (cache.size >= 8) cache.clear();
  const table = buildTabular(settings, source.files);
  cache.set(key, table);
  return table;
}

const fingerprints = new WeakMap<TabularSource, Promise<DataFingerprint>>();

/**
 * The data set a checkpoint records: its name, its source, and the fingerprint of its files'
 * bytes in the order given (a generator's: of the text naming it and its settings).
 */
export async function dataOf(c: MultitaskConfig, source: TabularSource): Promise<CheckpointData> {
  const table = tableFor(c, source);
  let files = fingerprints.get(source);
  if (source.files.length && !files) fingerprints.set(source, (files = fingerprint(source.files)));
  return { name: table.dataset, source: table.source, fingerprint: await (files ?? fingerprintText(table.source)) };
}
