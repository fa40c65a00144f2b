// Multi-task prediction from a checkpoint alone: the checkpoint describes its features, tasks
// and data; rows given as text are encoded exactly as training encoded them, and the
// predictions equal evaluation's to the bit; bad rows get one sentence naming row and column;
// a checkpoint from before the schema says what is missing and still resumes. Node and Chromium.
import { describe, expect, it } from 'vitest';
import { buildTabular } from '../src/data/tabular/build.ts';
import type { TabularFile } from '../src/data/tabular.ts';
import { CollectedPrediction, predictionCsv } from '../src/experiments/predict.ts';
import type { PredictValue } from '../src/experiments/types.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/log/safetensors.ts';
import { MULTITASK_DEFAULTS, type MultitaskConfig } from '../src/models/multitask/config.ts';
import { encodeRows, readInputFile, readRowText } from '../src/models/multitask/input-rows.ts';
import { MULTITASK_PREDICTOR, MultitaskPredictor } from '../src/models/multitask/predict.ts';
import type { MultitaskSchema } from '../src/models/multitask/schema.ts';
import { dataOf } from '../src/models/multitask/source.ts';
import { MultitaskTrainer } from '../src/models/multitask/trainer.ts';
import { Rng } from '../src/random.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const COLORS = ['red', 'green', 'blue', 'cyan'];
const SHAPES = ['disc', 'square'];

/** A CSV with two continuous and two categorical features and a binary and a regression label. */
function csv(rows: number): string {
  const rng = new Rng(5);
  const lines = ['size,color,weight,shape,clicked,spent'];
  for (let r = 0; r < rows; r++) {
    const size = (rng.normal() * 3 + 10).toFixed(3);
    const weight = (rng.uniform() * 50).toFixed(2);
    const color = COLORS[Math.floor(rng.uniform() * COLORS.length)];
    const shape = SHAPES[Math.floor(rng.uniform() * SHAPES.length)];
    const clicked = Number(size) > 10 !== (color === 'red') ? 1 : 0;
    lines.push(`${size},${color},${weight},${shape},${clicked},${(Number(weight) * 0.1 + rng.normal()).toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

const FILE: TabularFile = { name: 'shop.csv', bytes: new TextEncoder().encode(csv(500)) };

const CONFIG: MultitaskConfig = {
  ...MULTITASK_DEFAULTS,
  model: 'mmoe',
  dataset: 'csv',
  labels: ['clicked', 'spent'],
  taskKinds: ['binary', 'regression'],
  batchSize: 64,
  experts: 3,
  expertUnits: 8,
  towerUnits: 4,
  epochs: 1,
};

/** A short seeded run's trainer and its checkpoint. */
async function trained(): Promise<{ tr: MultitaskTrainer; bytes: Uint8Array }> {
  const source = { files: [FILE] };
  const tr = await MultitaskTrainer.create(t.gpu, buildTabular(CONFIG, source.files), CONFIG, await dataOf(CONFIG, source));
  await tr.train(1);
  return { tr, bytes: await tr.checkpoint() };
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('multi-task prediction', () => {
  it('encodes rows as training did and predicts what evaluation computes, to the bit', async () => {
    const { tr, bytes } = await trained();
    try {
      const file = readCheckpoint(bytes, 'run.safetensors');
      expect(file.experiment).toBe('multitask');
      expect(file.data?.name).toBe('csv');
      expect(file.data?.fingerprint.of).toEqual(['shop.csv']);
      const schema = file.schema as MultitaskSchema;
      expect(schema.tasks).toEqual([{ name: 'clicked', kind: 'binary' }, { name: 'spent', kind: 'regression' }]);
      expect(schema.categorical.map((c) => c.vocab[0])).toEqual(['<unknown>', '<unknown>']);
      const notes: string[] = [];
      // Every row of the file, labels included (they are accepted and not read).
      const all = encodeRows(schema, readInputFile(FILE), (l) => notes.push(l));
      expect(notes).toEqual([]);
      const p = await MultitaskPredictor.open(t.gpu, file);
      let predicted: Float32Array;
      try {
        predicted = await p.predict(all);
      } finally {
        p.destroy();
      }
      // The test split's rows, found in the file by their encoded features (each row's size is unique).
      const test = tr.data.test;
      const F = schema.categorical.length;
      const C = schema.continuous.length;
      const key = (cat: Uint32Array, cont: Float32Array, r: number): string => `${cat.subarray(r * F, r * F + F).join()}|${bits(cont.subarray(r * C, r * C + C)).join()}`;
      const byKey = new Map(Array.from({ length: all.count }, (_, r) => [key(all.categorical, all.continuous, r), r]));
      const rows = Array.from({ length: test.count }, (_, r) => byKey.get(key(test.categorical, test.continuous, r)));
      expect(rows.every((r) => r !== undefined)).toBe(true);
      const want = (await tr.predict(test)).values;
      const K = schema.outputs.length;
      const got = new Float32Array(test.count * K);
      rows.forEach((r, i) => got.set(predicted.subarray((r as number) * K, (r as number) * K + K), i * K));
      expect(bits(got)).toEqual(bits(want));
    } finally {
      tr.destroy();
    }
  });

  it('writes a probability and a decision per binary task and a value per regression task', async () => {
    const { tr, bytes } = await trained();
    tr.destroy();
    const file = readCheckpoint(bytes, 'run.safetensors');
    const out: { columns: readonly string[]; rows: (string | number)[][]; notes: string[] } = { columns: [], rows: [], notes: [] };
    const sink = { columns: (c: readonly string[]) => void (out.columns = c), rows: (r: readonly (readonly (string | number)[])[]) => void out.rows.push(...r.map((x) => [...x])), note: (l: string) => void out.notes.push(l) };
    await MULTITASK_PREDICTOR.predict(t.gpu, file, { row: 'size=9.5,color=mauve,weight=20,shape=disc', threshold: 0.5 }, sink);
    expect(out.columns).toEqual(['clicked_probability', 'clicked_decision', 'spent_value']);
    expect(out.rows).toHaveLength(1);
    const [p, d] = out.rows[0] as number[];
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    expect(d).toBe(p >= 0.5 ? 1 : 0);
    expect(out.notes).toEqual(['--row: column color: "mauve" was not seen in training and maps to the unknown row.']);
  });

  it("gives the page a form from the checkpoint's schema, whose row predicts what --row does, through the same CSV", async () => {
    const { tr, bytes } = await trained();
    tr.destroy();
    const file = readCheckpoint(bytes, 'run.safetensors');
    const form = MULTITASK_PREDICTOR.form?.(file);
    expect(form?.flag).toBe('input');
    expect(form?.replaces).toEqual(['row']);
    const fields = form?.fields ?? [];
    expect(fields.map((f) => [f.name, f.kind])).toEqual([['size', 'number'], ['weight', 'number'], ['color', 'choice'], ['shape', 'choice']]);
    const size = fields[0] as Extract<(typeof fields)[number], { kind: 'number' }>;
    expect(size.hint).toMatch(/^training mean 9\.\d+, standard deviation [23]\.\d+$/);
    expect(Number(size.value)).toBeCloseTo(10, 0);
    // The vocabulary without its unknown row, in the order training met the values.
    expect([...(fields[2] as { choices: readonly string[] }).choices].sort()).toEqual([...COLORS].sort());
    const collect = async (values: Record<string, PredictValue | undefined>): Promise<string> => {
      const sink = new CollectedPrediction();
      await MULTITASK_PREDICTOR.predict(t.gpu, file, { threshold: 0.5, ...values }, sink);
      return predictionCsv(sink.names, sink.table);
    };
    const row = Object.fromEntries(fields.map((f) => [f.name, f.value]));
    const fromForm = await collect({ input: [{ name: 'the form', bytes: new TextEncoder().encode(`${JSON.stringify(row)}\n`) }] });
    const fromRow = await collect({ row: fields.map((f) => `${f.name}=${f.value}`).join(',') });
    expect(fromForm).toBe(fromRow);
    expect(fromForm.split('\n')[0]).toBe('clicked_probability,clicked_decision,spent_value');
  });

  it('refuses a checkpoint whose weights were damaged, as a resume does', async () => {
    const { tr, bytes } = await trained();
    tr.destroy();
    const damaged = bytes.slice();
    damaged[damaged.length - 1] ^= 0xff; // the last tensor's last byte
    expect(() => readCheckpoint(damaged, 'run.safetensors')).toThrow(/^run\.safetensors is damaged: tensor "[^"]+" does not match its checksum; use another checkpoint, or train afresh$/);
    expect(() => readCheckpoint(bytes, 'run.safetensors')).not.toThrow();
  });

  it('names the row and column of a bad input, and notes unseen values once per column', async () => {
    const { tr, bytes } = await trained();
    tr.destroy();
    const schema = readCheckpoint(bytes, 'run.safetensors').schema as MultitaskSchema;
    const file = (text: string, name = 'in.csv'): TabularFile => ({ name, bytes: new TextEncoder().encode(text) });
    const enc = (text: string, name?: string, notes: string[] = []): unknown => encodeRows(schema, readInputFile(file(text, name)), (l) => notes.push(l));
    expect(() => enc('size,color,weight\n1,red,2\n')).toThrow('in.csv: column shape is missing; every row needs size, weight, color, shape.');
    expect(() => enc('size,color,weight,shape,height\n1,red,2,disc,3\n')).toThrow('in.csv: column height is not one the model reads; drop it (the model reads size, weight, color, shape).');
    expect(() => enc('size,color,weight,shape\n1,red,2,disc\n1,red,heavy,disc\n')).toThrow('in.csv row 2 (line 3): column weight "heavy" is not a number; give a number.');
    expect(() => enc('{"size":1,"color":"red","weight":2,"shape":"disc"}\n{"size":1,"color":"red","shape":"disc"}\n', 'in.jsonl')).toThrow('in.jsonl row 2 (line 2): column weight is missing; give it a value.');
    expect(() => encodeRows(schema, readRowText('size=1,color=red,weight=,shape=disc'), () => {})).toThrow('--row: column weight "" is not a number; give a number.');
    const notes: string[] = [];
    const rows = enc('size,color,weight,shape\n1,mauve,2,disc\n1,mauve,2,star\n1,teal,2,disc\n', 'in.csv', notes) as { categorical: Uint32Array };
    expect(notes).toEqual([
      'in.csv: column color: "mauve" (first in row 1 (line 2)), "teal" (first in row 3 (line 4)) were not seen in training and map to the unknown row.',
      'in.csv: column shape: "star" (first in row 2 (line 3)) was not seen in training and maps to the unknown row.',
    ]);
    expect(Array.from(rows.categorical)).toEqual([0, 1, 0, 0, 0, 1]);
  });

  it('says what an old checkpoint lacks for prediction, and still resumes it for training', async () => {
    const { tr, bytes } = await trained();
    try {
      const { tensors, metadata } = decodeSafetensors(bytes, 'run.safetensors');
      const { experiment: _e, data: _d, schema: _s, ...old } = metadata;
      const oldBytes = encodeSafetensors(tensors, old);
      const file = readCheckpoint(oldBytes, 'old.safetensors');
      expect(file.experiment).toBeUndefined();
      await expect(MultitaskPredictor.open(t.gpu, file)).rejects.toThrow(/^old\.safetensors has no feature schema \(it was written before checkpoints described their features\); resume it/);
      tr.restore(oldBytes, 'old.safetensors');
      expect(tr.done).toBe(1);
    } finally {
      tr.destroy();
    }
  });
});
