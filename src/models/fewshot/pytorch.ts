// The few-shot network's weights for PyTorch: homework 1's MANN, whose two torch.nn.LSTM are
// `layer1` (784 + N → H) and `layer2` (H → N) (test/support/torch_reference.py).
import { CheckpointError, type CheckpointFile } from '../../graph/checkpoint.ts';
import type { StTensor } from '../../log/safetensors.ts';
import { checkpointWeights, torchStateDict } from '../../nn/torch-state.ts';
import { Rng } from '../../random.ts';
import { FEWSHOT_DEFAULTS, type FewshotConfig } from './config.ts';
import { FewshotNet } from './model.ts';

const COURSE_NAMES: Record<string, string> = { lstm1: 'layer1', lstm2: 'layer2' };

export function fewshotPytorch(file: CheckpointFile): Record<string, StTensor> {
  const config = { ...FEWSHOT_DEFAULTS, ...file.config } as FewshotConfig;
  const input = file.tensors['lstm1.W_ih'];
  if (!input) throw new CheckpointError(`${file.source} does not fit the few-shot model its config describes: tensor "lstm1.W_ih" is missing`);
  // The first layer reads the pixels and the N label columns.
  const net = new FewshotNet(new Rng(0), config.numClasses, config.hidden, input.shape[0] - config.numClasses);
  return torchStateDict(net, checkpointWeights(file), (path) => COURSE_NAMES[path] ?? path);
}
