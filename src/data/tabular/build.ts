// Builds the multi-task table for --dataset from its files (none for the generators).
// Browser-safe and deterministic for a seed; see src/data/tabular/ for each data set's reading.
import { DataError } from '../errors.ts';
import { TABULAR_DATASETS, type TabularData, type TabularFile, type TabularSettings } from '../tabular.ts';
import { buildAliCcp } from './ali-ccp.ts';
import { buildAuxSynthetic } from './aux-synthetic.ts';
import { buildCensus } from './census.ts';
import { buildCsv } from './csv.ts';
import { buildEsmmSynthetic } from './esmm-synthetic.ts';
import { buildMmoeSynthetic } from './mmoe-synthetic.ts';

export function buildTabular(s: TabularSettings, files: readonly TabularFile[]): TabularData {
  switch (s.dataset) {
    case 'census-income':
      if (files.length === 0) throw new DataError('census-income needs its files; pass --data census-income.test.gz (or .data and .test).');
      return buildCensus(s, files);
    case 'mmoe-synthetic':
      return buildMmoeSynthetic(s);
    case 'aux-synthetic':
      return buildAuxSynthetic(s);
    case 'esmm-synthetic':
      return buildEsmmSynthetic(s);
    case 'ali-ccp':
      return buildAliCcp(s, files);
    case 'csv':
      return buildCsv(s, files);
    default:
      throw new DataError(`Unknown data set ${String(s.dataset)}; choose one of ${TABULAR_DATASETS.join(', ')}.`);
  }
}
