// The experiment descriptors the CLI, the page and the worker are made from: every registered
// experiment is complete and consistent (its defaults pass its own checks, flags and tags are
// unique, every option sets a field of the config), and the option schema parses and refuses
// values in one sentence naming the flag or the page's label.
import { describe, expect, it } from 'vitest';
import { chunks } from '../src/experiments/loop.ts';
import { checkOptions, expected, optionsHelp, parseOption, type OptionSpec } from '../src/experiments/options.ts';
import { EXPERIMENTS, experiment } from '../src/experiments/registry.ts';
import { metricsOf } from '../src/experiments/types.ts';

describe('the registry', () => {
  for (const ex of EXPERIMENTS) {
    it(`${ex.name}: complete and consistent`, () => {
      expect(experiment(ex.name)).toBe(ex);
      expect(() => ex.checkConfig(ex.defaults)).not.toThrow();
      const flags = ex.options.map((o) => o.flag);
      expect(new Set(flags).size).toBe(flags.length);
      expect(flags.every((f) => /^[a-z][a-z0-9_]*$/.test(f))).toBe(true);
      for (const o of ex.options) expect(ex.defaults, o.key).toHaveProperty(o.key);
      expect(flags).toContain(ex.lengthFlag);
      const metrics = metricsOf(ex, ex.defaults);
      const tags = metrics.map((m) => m.tag);
      expect(new Set(tags).size).toBe(tags.length);
      expect(metrics.some((m) => m.test)).toBe(true);
      expect(ex.length(ex.defaults)).toBeGreaterThan(0);
      expect(ex.evalEvery(ex.defaults)).toBeGreaterThan(0);
      expect(ex.runName(ex.defaults)).toMatch(/^[A-Za-z0-9._-]+$/);
      for (const p of ex.presets) {
        const runs = p.runs(ex.defaults);
        expect(runs.length).toBeGreaterThan(1);
        for (const r of runs) expect(() => ex.checkConfig(r.config)).not.toThrow();
        for (const f of p.sets) expect(flags).toContain(f);
      }
    });
  }

  it('names the experiments when asked for one it does not have', () => {
    expect(() => experiment('mmoe')).toThrow(/^there is no experiment "mmoe"; the experiments are recommender, fewshot, multitask$/);
  });
});

describe('options', () => {
  const batch: OptionSpec = { key: 'batchSize', flag: 'batch_size', type: 'int', min: 1, help: '', label: 'Batch size' };
  const seed: OptionSpec = { key: 'seed', flag: 'seed', type: 'int', min: 0, max: 2 ** 32 - 1, help: '', label: 'Seed' };
  const frac: OptionSpec = { key: 'f', flag: 'test_fraction', type: 'number', above: 0, below: 1, help: '', label: 'Test fraction' };
  const weight: OptionSpec = { key: 'w', flag: 'weight', type: 'number', min: 0, help: '', label: 'Weight' };
  const sizes: OptionSpec = { key: 'sizes', flag: 'layer_sizes', type: 'list', help: '', label: 'Sizes' };
  const input: OptionSpec = { key: 'input', flag: 'input', type: 'choice', choices: ['auto', 'bags', 'dense'], help: '', label: 'Input' };

  it('parse what a person types, and refuse the rest naming the flag, or the label on the page', () => {
    expect(parseOption(batch, ' 64 ')).toBe(64);
    expect(parseOption(frac, '0.1')).toBe(0.1);
    expect(parseOption(sizes, '96, 64')).toEqual([96, 64]);
    expect(parseOption(input, 'dense')).toBe('dense');
    expect(() => parseOption(batch, '0')).toThrow(/^--batch_size must be an integer from 1 up, not "0"$/);
    expect(() => parseOption(batch, '1.5')).toThrow(/^--batch_size must be an integer from 1 up, not "1.5"$/);
    expect(() => parseOption(seed, '4294967296')).toThrow(/^--seed must be an integer from 0 to 4294967295, not "4294967296"$/);
    expect(() => parseOption(frac, '1')).toThrow(/^--test_fraction must be a number between 0 and 1, not "1"$/);
    expect(() => parseOption(weight, 'heavy')).toThrow(/^--weight must be a number >= 0, not "heavy"$/);
    expect(() => parseOption(sizes, '96,0')).toThrow(/^--layer_sizes must be a comma-separated list of positive integers, not "96,0"$/);
    expect(() => parseOption(input, 'sparse')).toThrow(/^--input must be auto, bags or dense, not "sparse"$/);
    expect(() => parseOption(batch, '', 'Batch size')).toThrow(/^Batch size must be an integer from 1 up, not ""$/);
    expect(expected(input)).toBe('auto, bags or dense');
  });

  it('check a config made anywhere (the page, a test) against the same schema', () => {
    expect(() => checkOptions([batch, sizes], { batchSize: 8, sizes: [3] })).not.toThrow();
    expect(() => checkOptions([batch, sizes], { batchSize: 8, sizes: [] })).toThrow(/^--layer_sizes must be a comma-separated list of positive integers, not ""$/);
    expect(() => checkOptions([batch], { batchSize: 0.5 })).toThrow(/^--batch_size must be an integer from 1 up, not 0\.5$/);
  });

  it('document themselves for --help with their defaults', () => {
    const flag: OptionSpec = { key: 'shared', flag: 'no_shared', type: 'bool', negated: true, help: 'one table per head', label: 'Shared' };
    expect(optionsHelp([batch, flag, sizes], { batchSize: 256, shared: true, sizes: [96, 64] })).toEqual([
      ['--batch_size N', ' (default 256)'],
      ['--no_shared', 'one table per head'],
      ['--layer_sizes A,B,...', ' (default 96,64)'],
    ]);
    // No default (predict's --user): the help alone, never "(default undefined)".
    expect(optionsHelp([batch], {})).toEqual([['--batch_size N', '']]);
  });
});

describe('the training loop', () => {
  it('evaluates every `every` units and at the end, from wherever a checkpoint left off', () => {
    expect(chunks(0, 10, 5)).toEqual([5, 5]);
    expect(chunks(3, 10, 5)).toEqual([2, 5]);
    expect(chunks(0, 7, 5)).toEqual([5, 2]);
    expect(chunks(0, 3, 1)).toEqual([1, 1, 1]);
    expect(chunks(10, 10, 5)).toEqual([]);
  });
});
