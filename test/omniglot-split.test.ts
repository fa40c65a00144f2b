// The character split: the course's 1100 / 100 / 423, a seeded shuffle, scaled for partial sets.
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/data/errors.ts';
import { omniglotSplitSizes, splitOmniglotCharacters } from '../src/data/omniglot-split.ts';
import { Rng } from '../src/random.ts';

describe('omniglot split', () => {
  it('splits 1623 characters into 1100 / 100 / 423 that cover each character once', () => {
    const s = splitOmniglotCharacters(1623, 1);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([1100, 100, 423]);
    const all = [...s.train, ...s.val, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1623 }, (_, i) => i));
  });

  it('is the documented Rng(seed).shuffle of 0..n-1, cut in order', () => {
    const order = new Rng(42).shuffle(Array.from({ length: 1623 }, (_, i) => i));
    const s = splitOmniglotCharacters(1623, 42);
    expect(s.train).toEqual(order.slice(0, 1100));
    expect(s.val).toEqual(order.slice(1100, 1200));
    expect(s.test).toEqual(order.slice(1200));
    // Same seed, same split; another seed, another one.
    expect(splitOmniglotCharacters(1623, 42)).toEqual(s);
    expect(splitOmniglotCharacters(1623, 43).train).not.toEqual(s.train);
  });

  it('scales for partial sets and refuses sets too small to split', () => {
    // The two small background zips: 136 + 156 characters.
    expect(omniglotSplitSizes(292)).toEqual({ train: 198, val: 18 }); // 197.9, 17.99
    const s = splitOmniglotCharacters(292, 7);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([198, 18, 76]);
    expect(omniglotSplitSizes(10)).toEqual({ train: 7, val: 1 });
    expect(splitOmniglotCharacters(10, 1, { train: 5, val: 2 }).test.length).toBe(3);
    expect(() => splitOmniglotCharacters(3, 1)).toThrow(DataError);
    expect(() => splitOmniglotCharacters(3, 1)).toThrow(/^An Omniglot set of 3 characters cannot be split into 2 meta-train, 1 validation and 0 meta-test characters; each part needs at least one\.$/);
    expect(() => splitOmniglotCharacters(1623, 1, { train: 1600, val: 100 })).toThrow(/-77 meta-test/);
  });
});
