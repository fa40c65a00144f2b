// The example in a page: the CSV fetched beside it, the log written into the page.
import { Gpu } from 'shadertrain';
import { train } from './mlp.js';

const out = document.getElementById('log');
const log = (line) => (out.textContent += `${line}\n`);
try {
  const gpu = await Gpu.create();
  const csv = await (await fetch(new URL('./moons.csv', import.meta.url))).text();
  const { accuracy } = await train(gpu, csv, { log });
  gpu.destroy();
  document.body.dataset.accuracy = String(accuracy);
} catch (err) {
  log(`error: ${err.message}`);
  document.body.dataset.error = err.message;
}
