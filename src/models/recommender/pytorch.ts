// The recommender's weights for PyTorch: homework 0's model as a user writes it in torch.nn —
// nn.Embedding tables `user_embeddings`, `item_embeddings` (or a pair under `factorization` and
// `regression` when not shared), `user_biases`, `item_biases`, and the regression MLP as an
// nn.ModuleList of nn.Linear `mlp.0`, `mlp.1`, … (test/support/torch_reference.py).
import { CheckpointError, type CheckpointFile } from '../../graph/checkpoint.ts';
import type { StTensor } from '../../log/safetensors.ts';
import { checkpointWeights, torchStateDict } from '../../nn/torch-state.ts';
import { Rng } from '../../random.ts';
import { RECOMMENDER_DEFAULTS, type RecommenderConfig } from './config.ts';
import { Recommender } from './model.ts';

export function recommenderPytorch(file: CheckpointFile): Record<string, StTensor> {
  const config = { ...RECOMMENDER_DEFAULTS, ...file.config } as RecommenderConfig;
  const rows = (name: string): number => {
    const t = file.tensors[name];
    if (!t) throw new CheckpointError(`${file.source} does not fit the recommender model its config describes: tensor "${name}" is missing`);
    return t.shape[0];
  };
  // The initial weights are drawn only to be replaced by the checkpoint's.
  const model = new Recommender(config, { users: rows('user_biases'), items: rows('item_biases') }, new Rng(0));
  return torchStateDict(model, checkpointWeights(file));
}
