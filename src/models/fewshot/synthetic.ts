// A small Omniglot-shaped set for tests and benches when the real one is not wanted: each
// character is a random blob of ink (about Omniglot's 9%), each drawing that blob with a few
// pixels moved. Binary (0/255) like the nearest-neighbour set, or grey with `grey`.
import { OMNIGLOT_SIDE, type OmniglotSet } from '../../data/omniglot-set.ts';
import { Rng } from '../../random.ts';

export interface SyntheticOmniglotOptions {
  characters: number;
  drawings?: number;
  /** Share of ink pixels per character (default 0.09). */
  ink?: number;
  /** Share of a drawing's ink moved elsewhere (default 0.2). */
  noise?: number;
  /** Grey levels instead of 0/255 (an "area"-filtered look). */
  grey?: boolean;
  seed?: number;
}

export function syntheticOmniglot(o: SyntheticOmniglotOptions): OmniglotSet {
  const drawings = o.drawings ?? 20;
  const side = OMNIGLOT_SIDE;
  const P = side * side;
  const ink = o.ink ?? 0.09;
  const noise = o.noise ?? 0.2;
  const rng = new Rng(o.seed ?? 1);
  const pixels = new Uint8Array(o.characters * drawings * P);
  const proto = new Uint8Array(P);
  for (let c = 0; c < o.characters; c++) {
    proto.fill(0);
    for (let p = 0; p < P; p++) if (rng.uniform() < ink) proto[p] = 1;
    for (let d = 0; d < drawings; d++) {
      const base = (c * drawings + d) * P;
      for (let p = 0; p < P; p++) {
        let on = proto[p] === 1;
        if (on && rng.uniform() < noise) on = false;
        else if (!on && rng.uniform() < noise * ink) on = true;
        if (on) pixels[base + p] = o.grey ? 64 + rng.int(192) : 255;
      }
    }
  }
  return {
    characters: o.characters,
    drawings,
    side,
    filter: o.grey ? 'area' : 'nearest',
    binary: !o.grey,
    pixels,
    names: Array.from({ length: o.characters }, (_, c) => `Synthetic/character${String(c + 1).padStart(2, '0')}`),
  };
}
