// Where a multi-task run's table comes from: the files a front end read (--data, or the files
// chosen on the page), built into a table by the config's data settings. A preset builds one
// table per distinct setting (the synthetic sweep's ρ, the auxiliary sweep's main rows) and
// every run of the same setting reuses it.
import { buildTabular } from '../../data/tabular/build.ts';
import type { TabularData, TabularFile, TabularSettings } from '../../data/tabular.ts';
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
