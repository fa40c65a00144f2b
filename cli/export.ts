// `shadertrain export --checkpoint F --format pytorch [--out G]`: a checkpoint's weights alone
// (no optimizer moments or metric sums), in the names and layouts of the original's PyTorch
// module, as a safetensors file that `safetensors.torch.load_file` and `load_state_dict` take.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../src/data/files-node.ts';
import { EXPERIMENTS } from '../src/experiments/registry.ts';
import { CheckpointError, readCheckpoint, type CheckpointFile } from '../src/graph/checkpoint.ts';
import { encodeSafetensors } from '../src/log/safetensors.ts';
import { UserError } from './errors.ts';
import { parseFlags, stringFlag } from './flags.ts';
import { examplesHelp } from './help.ts';
import { checkWritable } from './output-paths.ts';

const SPEC = { checkpoint: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

const FORMATS = ['pytorch'] as const;

function help(): string {
  const rows: [string, string][] = [
    ['--checkpoint FILE', 'a checkpoint written by a training run (--checkpoint there)'],
    ['--format pytorch', "the weights in the original PyTorch module's state_dict names and layouts\n(Linear weights [out, in], torch.nn.LSTM's names); the only format, the default"],
    ['--out FILE', 'where to write (default: the checkpoint with .pytorch.safetensors for .safetensors)'],
    ['--overwrite', 'replace an existing --out (refused without it)'],
  ];
  const table = rows.map(([l, t]) => `  ${l.padEnd(20)}${t.replaceAll('\n', `\n  ${' '.repeat(20)}`)}`).join('\n');
  const examples = examplesHelp('export', [
    { args: '--checkpoint fs.safetensors --format pytorch', does: 'writes fs.pytorch.safetensors; in Python: model.load_state_dict(safetensors.torch.load_file(...))' },
    { args: '--checkpoint rec.safetensors --out rec-torch.safetensors --overwrite', does: 'to a file of your choosing, replacing it' },
  ]);
  return `usage: shadertrain export --checkpoint FILE [--format pytorch] [--out FILE] [--overwrite]\nA checkpoint's weights without the optimizer's state, for PyTorch: the modules each experiment\nexports to are in docs/export.md, with the Python that loads them.\n\n${table}${examples}`;
}

/** The experiment a checkpoint belongs to; checkpoints from before the `experiment` key name it in their config. */
function experimentOf(file: CheckpointFile): string {
  const name = file.experiment ?? file.config.experiment ?? file.config.model;
  if (typeof name !== 'string') throw new CheckpointError(`${file.source} does not say which experiment wrote it; export a checkpoint written by shadertrain recommender, fewshot or multitask`);
  return name;
}

export async function exportCommand(args: string[]): Promise<number> {
  const v = parseFlags(args, SPEC);
  if (v.help) {
    console.log(help());
    return 0;
  }
  const path = stringFlag(v.checkpoint);
  if (path === undefined) throw new UserError('export needs --checkpoint FILE, a checkpoint a training run wrote; see shadertrain export --help');
  const format = stringFlag(v.format) ?? 'pytorch';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UserError(`--format ${format} is not a format export writes; use --format ${FORMATS.join(' or ')}`);
  if (!existsSync(path) || statSync(path).isDirectory()) throw new UserError(`--checkpoint ${path}: no such file`);
  const out = stringFlag(v.out) ?? `${path.replace(/\.safetensors$/, '')}.pytorch.safetensors`;
  if (existsSync(out) && !v.overwrite) throw new UserError(`--out ${out} already exists; replace it with --overwrite or choose another --out`);
  checkWritable('out', out, 'file');
  const file = readCheckpoint(new Uint8Array(readFileSync(path)), path);
  const name = experimentOf(file);
  const ex = EXPERIMENTS.find((e) => e.name === name);
  if (!ex) throw new CheckpointError(`${path} is a checkpoint of experiment "${name}", which this shadertrain does not have (it has ${EXPERIMENTS.map((e) => e.name).join(', ')})`);
  if (!ex.pytorch) throw new CheckpointError(`${path} is a ${name} checkpoint, and export does not write ${name} models for PyTorch yet`);
  const tensors = ex.pytorch(file);
  // "format": "pt" is what Hugging Face's loaders look for; the config says how to build the module.
  await writeFileAtomic(out, encodeSafetensors(tensors, { format: 'pt', experiment: name, config: JSON.stringify(file.config), source: path }));
  const values = Object.values(tensors).reduce((n, t) => n + t.data.length, 0);
  console.log(`wrote ${out}: ${name}, ${Object.keys(tensors).length} tensors, ${values.toLocaleString('en-US')} weights in PyTorch's layouts (see docs/export.md)`);
  return 0;
}
