// Builds the embedded Omniglot set: all 1623 characters preprocessed as the course did (28×28,
// nearest neighbour, ink = 255), packed 1 bit per pixel and deflated, into
// assets/omniglot/omniglot28.bin.
//
//   npx tsx scripts/pack-omniglot.ts [--source DIR] [--out FILE]
//
// DIR defaults to ../shared/data/omniglot beside the repository (the npz archives); any source
// loadOmniglot reads works (the official folders or zips). The set must be complete.
import { join, resolve } from 'node:path';
import { DataError } from '../src/data/errors.ts';
import { writeFileAtomic } from '../src/data/files-node.ts';
import { decodePackedOmniglot, encodePackedOmniglot, inkFraction } from '../src/data/omniglot.ts';
import { EMBEDDED_OMNIGLOT, loadOmniglot, packageRoot } from '../src/data/omniglot-node.ts';
import { OMNIGLOT_CHARACTERS } from '../src/data/omniglot-set.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new DataError(`${name} needs a value.`);
  return v;
}

async function main(): Promise<void> {
  const root = packageRoot();
  const source = resolve(arg('--source') ?? join(root, '..', 'shared', 'data', 'omniglot'));
  const out = resolve(arg('--out') ?? join(root, EMBEDDED_OMNIGLOT));
  const t0 = performance.now();
  const set = await loadOmniglot({ data: source, filter: 'nearest', cache: false });
  const t1 = performance.now();
  if (set.characters !== OMNIGLOT_CHARACTERS) {
    throw new DataError(`${source} holds ${set.characters} Omniglot characters; the embedded set needs all ${OMNIGLOT_CHARACTERS}.`);
  }
  if (!set.binary) throw new DataError(`${source} did not give a binary set; the packed form stores 1 bit per pixel.`);
  const bytes = encodePackedOmniglot(set, { compress: true });
  // Read it back before writing: the asset must decode to exactly what was packed.
  const back = decodePackedOmniglot(bytes, out);
  if (back.characters !== set.characters || back.names.join('\n') !== set.names.join('\n') || !back.pixels.every((v, i) => v === set.pixels[i])) {
    throw new Error('pack-omniglot: the packed set does not read back identically');
  }
  await writeFileAtomic(out, bytes);
  console.log(
    `${out}: ${set.characters} characters × ${set.drawings} drawings, ${set.side}×${set.side}, ${bytes.length} bytes; ` +
      `ink ${(100 * inkFraction(set)).toFixed(2)}% of pixels; preprocessing ${((t1 - t0) / 1000).toFixed(1)} s`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof DataError ? err.message : err);
  process.exit(1);
});
