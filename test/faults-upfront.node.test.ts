// Mistakes caught before any GPU work, each as one sentence naming the flag (or the data line)
// and what to do: a flag left without its value, sizes beyond the adapter's limits, absurd values.
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../cli/flags.ts';

describe('flags', () => {
  const spec = { epochs: { type: 'string' }, logdir: { type: 'string' }, json: { type: 'boolean' } } as const;
  it('a flag without its value is one line naming the flag and what followed it', () => {
    expect(() => parseFlags(['--epochs', '--logdir', 'L'], spec)).toThrow(/^--epochs needs a value \(it was followed by --logdir\); see --help$/);
    expect(() => parseFlags(['--logdir', 'L', '--epochs'], spec)).toThrow(/^--epochs needs a value; see --help$/);
    expect(() => parseFlags(['--json', '--epochs'], spec)).toThrow(/^--epochs needs a value; see --help$/);
  });
});
