// The data fingerprint: SHA-256 of the files' bytes back to back, as `cat a b | sha256sum` gives
// it, named by the files' last path parts. Node and Chromium (Web Crypto in both).
import { describe, expect, it } from 'vitest';
import { fingerprint, fingerprintText, sha256Hex } from '../src/data/fingerprint.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('data fingerprint', () => {
  it('is the SHA-256 of the bytes, in hex', async () => {
    expect(await sha256Hex(bytes('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes several files back to back in the order given', async () => {
    const f = await fingerprint([{ name: 'data/a.csv', bytes: bytes('a') }, { name: 'C:\\x\\b.csv', bytes: bytes('bc') }]);
    expect(f).toEqual({ sha256: await sha256Hex(bytes('abc')), of: ['a.csv', 'b.csv'] });
    const swapped = await fingerprint([{ name: 'b.csv', bytes: bytes('bc') }, { name: 'a.csv', bytes: bytes('a') }]);
    expect(swapped.sha256).not.toBe(f.sha256);
  });

  it('hashes a view without its neighbours, and a generator by its settings', async () => {
    const big = bytes('xxabcxx');
    expect(await sha256Hex(big.subarray(2, 5))).toBe(await sha256Hex(bytes('abc')));
    expect(await fingerprintText('mmoe-synthetic(d=100)')).toEqual({ sha256: await sha256Hex(bytes('mmoe-synthetic(d=100)')), of: ['mmoe-synthetic(d=100)'] });
  });
});
