// Sweep specs: parsed from YAML and JSON, every option name and value checked against the
// experiment's descriptor in one sentence naming the file and key, and the axes expanded into a
// stable numbered list.
import { describe as group, expect, it } from 'vitest';
import { EXPERIMENTS } from '../src/experiments/registry.ts';
import type { AnyExperiment } from '../src/experiments/types.ts';
import { describe, expand } from '../src/sweep/expand.ts';
import { parseSweep } from '../src/sweep/spec.ts';

const options = (ex: AnyExperiment) => ex.options;
const parse = (text: string) => parseSweep(text, 'sweeps/x.yaml', EXPERIMENTS, options);

const GRID = `
experiment: multitask
fixed:
  dataset: mmoe-synthetic
  epochs: 3
axes:
  - grid:
      model: [shared-bottom, mmoe]
      rho: [0.5, 0.9]
  - seeds: 2
`;

group('sweep specs', () => {
  it('expands a grid and seeds into a numbered list, the first axis outermost', () => {
    const configs = expand(parse(GRID));
    expect(configs.map((c) => describe(c.swept))).toEqual([
      'model=shared-bottom rho=0.5 seed=0',
      'model=shared-bottom rho=0.5 seed=1',
      'model=shared-bottom rho=0.9 seed=0',
      'model=shared-bottom rho=0.9 seed=1',
      'model=mmoe rho=0.5 seed=0',
      'model=mmoe rho=0.5 seed=1',
      'model=mmoe rho=0.9 seed=0',
      'model=mmoe rho=0.9 seed=1',
    ]);
    expect(configs[5]).toEqual({
      index: 5,
      settings: { dataset: 'mmoe-synthetic', epochs: 3, model: 'mmoe', rho: 0.5, seed: 1 },
      swept: { model: 'mmoe', rho: 0.5, seed: 1 },
      dir: '5-model=mmoe_rho=0.5_seed=1',
    });
  });

  it('reads the same sweep from JSON', () => {
    const json = JSON.stringify({ experiment: 'multitask', fixed: { dataset: 'mmoe-synthetic', epochs: 3 }, axes: [{ grid: { model: ['shared-bottom', 'mmoe'], rho: [0.5, 0.9] } }, { seeds: 2 }] });
    expect(expand(parse(json))).toEqual(expand(parse(GRID)));
  });

  it('lists configurations, seeds from the fixed seed, and lists of seeds', () => {
    const s = parse(`
experiment: recommender
fixed: {seed: 7}
axes:
  - list:
      - {no_shared_embeddings: false, factorization_weight: 0.99, regression_weight: 0.01}
      - {no-shared-embeddings: true, factorization_weight: 0.5, regression_weight: 0.5}
  - seeds: 2
`);
    expect(expand(s).map((c) => c.swept)).toEqual([
      { no_shared_embeddings: false, factorization_weight: 0.99, regression_weight: 0.01, seed: 7 },
      { no_shared_embeddings: false, factorization_weight: 0.99, regression_weight: 0.01, seed: 8 },
      { no_shared_embeddings: true, factorization_weight: 0.5, regression_weight: 0.5, seed: 7 },
      { no_shared_embeddings: true, factorization_weight: 0.5, regression_weight: 0.5, seed: 8 },
    ]);
    expect(expand(parse('experiment: fewshot\naxes: [{seeds: [3, 1]}]')).map((c) => c.settings)).toEqual([{ seed: 3 }, { seed: 1 }]);
  });

  it('draws a random search from its seed: the same list every time, every value in range', () => {
    const text = `
experiment: multitask
axes:
  - random:
      seed: 11
      count: 20
      options:
        lr: {log_uniform: [0.0001, 0.01]}
        dropout: {uniform: [0, 0.5]}
        experts: {int: [2, 8]}
        model: {choice: [omoe, mmoe]}
`;
    const a = expand(parse(text));
    expect(expand(parse(text))).toEqual(a);
    expect(a).toHaveLength(20);
    for (const c of a) {
      const { lr, dropout, experts, model } = c.settings as { lr: number; dropout: number; experts: number; model: string };
      expect(lr).toBeGreaterThanOrEqual(0.0001);
      expect(lr).toBeLessThanOrEqual(0.01);
      expect(dropout).toBeGreaterThanOrEqual(0);
      expect(dropout).toBeLessThan(0.5);
      expect(Number.isInteger(experts) && experts >= 2 && experts <= 8).toBe(true);
      expect(['omoe', 'mmoe']).toContain(model);
    }
    expect(new Set(a.map((c) => c.settings.experts)).size).toBeGreaterThan(3);
    expect(new Set(a.map((c) => c.settings.model)).size).toBe(2);
    const other = expand(parse(text.replace('seed: 11', 'seed: 12')));
    expect(other.map((c) => c.settings.lr)).not.toEqual(a.map((c) => c.settings.lr));
  });

  it('pads the folder numbers so they sort', () => {
    const dirs = expand(parse('experiment: multitask\naxes: [{seeds: 12}]')).map((c) => c.dir);
    expect(dirs[0]).toBe('00-seed=0');
    expect(dirs[11]).toBe('11-seed=11');
  });

  it('refuses every mistake in one sentence naming the file and the key', () => {
    const refuse = (text: string, message: RegExp): void => expect(() => parse(text)).toThrow(message);
    refuse('experiment: mmoe', /^sweeps\/x\.yaml: experiment must be recommender, fewshot, multitask, not "mmoe"$/);
    refuse('experiment: multitask\nfixed: {lrr: 0.1}', /^sweeps\/x\.yaml: fixed: "lrr" is not an option of multitask \(see shadertrain multitask --help\)$/);
    refuse('experiment: multitask\nfixed: {lr: -1}', /^sweeps\/x\.yaml: fixed\.lr must be a number > 0, not "-1"$/);
    refuse('experiment: multitask\naxes: [{grid: {model: [mmoe, mmo]}}]', /^sweeps\/x\.yaml: axes\[0\]\.grid\.model\[1\] must be .*, not "mmo"$/);
    refuse('experiment: multitask\naxes: [{grid: {model: mmoe}}]', /^sweeps\/x\.yaml: axes\[0\]\.grid\.model must be a non-empty list of values$/);
    refuse('experiment: recommender\naxes: [{list: [{sparse_adam: 1}]}]', /^sweeps\/x\.yaml: axes\[0\]\.list\[0\]\.sparse_adam must be true or false, not 1$/);
    refuse('experiment: multitask\naxes: [{random: {seed: 1, count: 2, options: {lr: {uniform: [0, 1]}}}}]', /^sweeps\/x\.yaml: axes\[0\]\.random\.options\.lr\.uniform must be a number > 0, not "0"$/);
    refuse('experiment: multitask\naxes: [{random: {seed: 1, count: 0, options: {lr: {uniform: [0.1, 1]}}}}]', /^sweeps\/x\.yaml: axes\[0\]\.random\.count must be an integer from 1 up$/);
    refuse('experiment: multitask\naxes: [{sweep: {}}]', /^sweeps\/x\.yaml: axes\[0\]: "sweep" is not an axis; the axes are grid, list, random and seeds$/);
    refuse('experiment: multitask\naxis: []', /^sweeps\/x\.yaml: "axis" is not a sweep key; the keys are experiment, fixed, axes, report, logdir$/);
    refuse('experiment: multitask\nreport: hw0', /^sweeps\/x\.yaml: report must name a preset of multitask \(census, synthetic, aux, esmm, training\), not "hw0"$/);
    refuse('experiment: [multitask', /^sweeps\/x\.yaml is not valid YAML or JSON: /);
  });
});
