// The few-shot network's sizes against the adapter, before any GPU work: every episode is N·(K+1)
// drawings, a step or an evaluation stacks a batch of episodes into one sequence of rows, and the
// widest per-row buffer (the first LSTM's 4·H gates, the second's 4·N, or the input: the dense
// pixels or the ink indices of an embedding bag) must fit one buffer.
import type { OmniglotSet } from '../../data/omniglot-set.ts';
import { ConfigError } from '../../experiments/options.ts';
import { beyond, bufferCap, ELEMENT_BYTES as F, thousands, type BufferLimits } from '../../experiments/limits.ts';
import type { FewshotConfig } from './config.ts';
import { ImageBank } from './episodes.ts';

export function checkFewshotLimits(c: FewshotConfig, set: OmniglotSet, limits: BufferLimits): void {
  const cap = bufferCap(limits);
  const N = c.numClasses;
  const perEpisode = N * (c.numShot + 1);
  const [flag, batch] = c.evalBatch > c.metaBatch ? ['eval_batch_size', c.evalBatch] : ['meta_batch_size', c.metaBatch];
  const pixels = set.side * set.side;
  const bags = c.input === 'bags' || (c.input === 'auto' && set.binary);
  // Widest first; the bag's width (the most ink of any drawing) is counted only when it could matter.
  const widths: [number, string][] = [
    [4 * c.hidden, `the first LSTM's 4 × --hidden_size ${c.hidden} gates`],
    [4 * N, `the second LSTM's 4 × --num_classes ${N} gates`],
    ...(!bags ? [[pixels + N, `the ${thousands(pixels)} pixels and ${N} labels of the input`] as [number, string]] : []),
  ];
  if (bags && batch * perEpisode * (pixels + 1) * F > cap.bytes) widths.push([new ImageBank(set).maxActive + 1, 'the ink indices of the most inked drawing']);
  const [width, what] = widths.reduce((a, b) => (b[0] > a[0] ? b : a));
  const bytes = batch * perEpisode * width * F;
  if (bytes <= cap.bytes) return;
  const most = Math.floor(cap.bytes / (perEpisode * width * F));
  const fix = most >= 1 ? `use --${flag} ${most} or less` : 'lower --num_classes or --num_shot';
  throw new ConfigError(
    `--num_classes ${N} × (--num_shot ${c.numShot} + 1) × --${flag} ${batch} = ${thousands(batch * perEpisode)} rows, each ${thousands(width)} wide (${what}): one buffer ${beyond(bytes, cap)}; ${fix}`,
  );
}
