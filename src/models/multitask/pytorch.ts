// The multi-task models' weights for PyTorch, under the module names they have here: each
// one-hot layer is the nn.Linear over [one-hot fields in the schema's order, continuous
// columns] it stands for, each tower an nn.ModuleList of nn.Linear, ESMM's packed field
// embeddings one nn.Embedding, and uncertainty weighting's `log_vars` an nn.Parameter
// (test/support/torch_reference.py).
import type { CheckpointFile } from '../../graph/checkpoint.ts';
import type { StTensor } from '../../log/safetensors.ts';
import { checkpointWeights, torchStateDict } from '../../nn/torch-state.ts';
import { Rng } from '../../random.ts';
import { MULTITASK_DEFAULTS, type MultitaskConfig } from './config.ts';
import { layoutOf, MultitaskModel } from './model.ts';
import { schemaFrom } from './schema.ts';

export function multitaskPytorch(file: CheckpointFile): Record<string, StTensor> {
  const config = { ...MULTITASK_DEFAULTS, ...file.config } as MultitaskConfig;
  const model = new MultitaskModel(config, layoutOf(config, schemaFrom(file)), new Rng(0));
  return torchStateDict(model, checkpointWeights(file));
}
