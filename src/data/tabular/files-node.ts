// The multi-task data sets' files in Node: --data as a comma-separated list of files or a folder,
// or, for census-income without --data, the embedded test split (assets/census-income/).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { packageRoot } from '../omniglot-node.ts';
import type { TabularDataset, TabularFile } from '../tabular.ts';

/** The embedded census-income test split (CC BY 4.0), relative to the package root. */
export const EMBEDDED_CENSUS = 'assets/census-income/census-income.test.gz';

const GENERATED: readonly TabularDataset[] = ['mmoe-synthetic', 'aux-synthetic', 'esmm-synthetic'];

/** Which files of a folder a data set reads. */
function folderFiles(dataset: TabularDataset, dir: string): string[] {
  const wanted = (name: string): boolean => {
    if (dataset === 'census-income') return /\.(data|test)(\.gz)?$/.test(name);
    if (dataset === 'ali-ccp') return /\.(csv|txt)(\.gz)?$/.test(name);
    return /\.csv(\.gz)?$/.test(name);
  };
  const names = readdirSync(dir).filter(wanted).sort();
  if (names.length === 0) throw new DataError(`--data ${dir} holds no ${dataset} files; pass the files themselves or a folder with them.`);
  return names.map((n) => join(dir, n));
}

export function readTabularFiles(dataset: TabularDataset, data: string | undefined): TabularFile[] {
  if (GENERATED.includes(dataset)) return [];
  if (data === undefined || data === '') {
    if (dataset !== 'census-income') throw new DataError(`--dataset ${dataset} needs --data: a file, a comma-separated list of files, or a folder.`);
    const path = join(packageRoot(), EMBEDDED_CENSUS);
    if (!existsSync(path)) throw new DataError(`The embedded census-income split ${path} is missing; reinstall shadertrain or pass --data.`);
    return [{ name: path, bytes: new Uint8Array(readFileSync(path)) }];
  }
  const paths = data.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const files = paths.flatMap((p) => {
    if (!existsSync(p)) throw new DataError(`--data ${p} does not exist; pass an existing file or folder.`);
    return statSync(p).isDirectory() ? folderFiles(dataset, p) : [p];
  });
  return files.map((name) => ({ name, bytes: new Uint8Array(readFileSync(name)) }));
}
