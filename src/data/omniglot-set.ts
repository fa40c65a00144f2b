// The preprocessed Omniglot set every consumer sees: characters in Omniglot's own numbering
// (`../shared/data/omniglot/characters.tsv`, the npz row order and the PNG name prefixes):
// background alphabets then evaluation alphabets, alphabets ordered by Lake's short names
// (Estrangelo, Futhorc, Hiragana, Magi, ...), characters 01, 02, ...; 20 drawings each,
// 28×28 with ink = 255 and background = 0.

export const OMNIGLOT_CHARACTERS = 1623;
export const OMNIGLOT_DRAWINGS = 20;
export const OMNIGLOT_SIDE = 28;
export const OMNIGLOT_PIXELS = OMNIGLOT_SIDE * OMNIGLOT_SIDE;

/** How 105×105 drawings became 28×28: the course's binary nearest-neighbour, or antialiased. */
export type ResizeFilter = 'nearest' | 'area' | 'lanczos';

export interface OmniglotSet {
  characters: number;
  drawings: number;
  side: number;
  filter: ResizeFilter;
  /** True when every pixel is 0 or 255 (the default, nearest-neighbour set). */
  binary: boolean;
  /** [character][drawing][side·side] row-major, ink intensity 0..255. */
  pixels: Uint8Array;
  /** "Alphabet/characterNN" per character, in order. */
  names: string[];
}
