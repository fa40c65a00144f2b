// The example in Node: `node examples/node.mjs [FILE.csv]` (default: moons.csv beside it).
import { readFileSync } from 'node:fs';
import { Gpu } from 'shadertrain';
import { train } from './mlp.js';

const file = process.argv[2] ?? new URL('./moons.csv', import.meta.url);
const gpu = await Gpu.create();
try {
  await train(gpu, readFileSync(file, 'utf8'));
} finally {
  gpu.destroy();
}
