// Every bit kept: short seeded runs of each experiment, through the command a user types, write
// checkpoints whose tensors hash to the values pinned in test/pins/bits.json. A restructuring
// that changes one bit of one weight, moment or metric sum fails here. The pins are SwiftShader's
// (floats may differ on another adapter): elsewhere the test says so and skips the comparison.
// SHADERTRAIN_WRITE_PINS=1 rewrites the pins; do that only for a change meant to move the bits,
// and say why in the commit.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/log/safetensors.ts';

const PINS = 'test/pins/bits.json';
const ML100K = join('..', 'shared', 'data', 'ml-100k', 'ua.test');
const WRITE = process.env.SHADERTRAIN_WRITE_PINS === '1';

/** Each run: the command's arguments (its checkpoint and logdir are added). Real MovieLens ratings (9,430 of ml-100k) and the embedded Omniglot. */
const RUNS: Record<string, string[]> = {
  'recommender shared 0.5/0.5': ['recommender', '--data', ML100K, '--epochs', '2'],
  'recommender separate 0.99/0.01': ['recommender', '--data', ML100K, '--epochs', '2', '--no_shared_embeddings', '--factorization_weight', '0.99', '--regression_weight', '0.01'],
  'recommender clipped, sparse Adam, no hidden layer, regression only': [
    'recommender', '--data', ML100K, '--epochs', '2', '--clip_predicted_rating', '--sparse_adam', '--factorization_weight', '0', '--regression_weight', '1', '--layer_sizes', '96', '--batch_size', '500', '--seed', '3',
  ],
  'fewshot bags': ['fewshot', '--num_classes', '2', '--meta_batch_size', '16', '--hidden_size', '32', '--steps', '6', '--eval_every', '3', '--eval_batch_size', '16'],
  'fewshot dense 3-way 2-shot': ['fewshot', '--input', 'dense', '--num_classes', '3', '--num_shot', '2', '--meta_batch_size', '8', '--hidden_size', '16', '--steps', '5', '--eval_every', '2', '--eval_batch_size', '8', '--seed', '7'],
};

interface Pin {
  adapter: string;
  /** Tensor name → [shape, sha256 of its little-endian bytes (first 16 hex digits)]. */
  tensors: Record<string, [number[], string]>;
}

let dir = '';
beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-bits-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runAndHash(name: string, args: string[]): Pin {
  const key = name.replace(/\W+/g, '-');
  const ckpt = join(dir, `${key}.safetensors`);
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args, '--checkpoint', ckpt, '--logdir', join(dir, key), '--json'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${name} exited ${r.status ?? r.signal}: ${r.stderr}`);
  const a = (JSON.parse(r.stdout) as { adapter: { vendor: string; architecture: string } }).adapter;
  const { tensors } = decodeSafetensors(readFileSync(ckpt), ckpt);
  const out: Pin['tensors'] = {};
  for (const n of Object.keys(tensors).sort()) {
    const t = tensors[n];
    const d = t.data;
    out[n] = [t.shape, createHash('sha256').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex').slice(0, 16)];
  }
  return { adapter: `${a.vendor} ${a.architecture}`, tensors: out };
}

describe('bit pins', () => {
  const pins = existsSync(PINS) ? (JSON.parse(readFileSync(PINS, 'utf8')) as Record<string, Pin>) : {};
  const written: Record<string, Pin> = {};
  afterAll(() => {
    if (!WRITE) return;
    // One line per tensor, so that a diff of the pins names the tensors that moved.
    const runs = Object.entries(written).map(([run, p]) => {
      const lines = Object.entries(p.tensors).map(([n, v]) => `   ${JSON.stringify(n)}: ${JSON.stringify(v)}`);
      return ` ${JSON.stringify(run)}: {\n  "adapter": ${JSON.stringify(p.adapter)},\n  "tensors": {\n${lines.join(',\n')}\n  }\n }`;
    });
    writeFileSync(PINS, `{\n${runs.join(',\n')}\n}\n`);
  });
  for (const [name, args] of Object.entries(RUNS)) {
    it(name, () => {
      if (!existsSync(ML100K) && args.includes(ML100K)) throw new Error(`${ML100K} is missing: the pins read real MovieLens from ../shared/data`);
      const got = runAndHash(name, args);
      written[name] = got;
      if (WRITE) return;
      const want = pins[name];
      expect(want, `no pin for "${name}" in ${PINS}`).toBeDefined();
      if (got.adapter !== want.adapter) {
        console.warn(`bits.node.test: pins are ${want.adapter}'s; this adapter is ${got.adapter}, so the hashes are not compared`);
        expect(Object.keys(got.tensors)).toEqual(Object.keys(want.tensors));
        return;
      }
      expect(got.tensors).toEqual(want.tensors);
    });
  }
});
