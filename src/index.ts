/// <reference types="@webgpu/types" preserve="true" />
// The engine as a library (`import { … } from 'shadertrain'`): what runs the same in a browser
// and in Node. src/node.ts adds the Node-only parts (files, logs). docs/api.md is the guide.

// The device.
export { Gpu, type GpuOptions } from './gpu/context.ts';
export { adapterLine, type AdapterReport } from './gpu/adapter-report.ts';
export { DeviceLostError, NoWebGPUError } from './gpu/platform.ts';
export { StagingRing } from './gpu/readback.ts';
export { Rng } from './random.ts';

// The graph: tensors, ops, reverse mode, the compiled step, metrics summed on the GPU.
export { Graph, GraphError, Tensor, type DType, type TypedData } from './graph/graph.ts';
export { gradients } from './graph/autodiff.ts';
export { CompiledStep, type CompileOptions } from './graph/compile.ts';
export { Metrics, NonFiniteError } from './graph/metrics.ts';
export { add } from './graph/ops/basic.ts';
export { concat, mul, scale, splitColumns } from './graph/ops/elementwise.ts';
export { activate, dense, matmul } from './graph/ops/matmul.ts';
export { embedding } from './graph/ops/embedding.ts';
export { bagInputs, embeddingBag } from './graph/ops/embedding-bag.ts';
export { bceOnProduct, bceWithLogits, mseLoss, rankingLoss, softmaxCrossEntropy, type ElementLossOptions } from './graph/ops/loss.ts';
export { gateMix } from './graph/ops/gate-mix.ts';
export { dropout } from './graph/ops/dropout.ts';
export { uncertaintyLoss } from './graph/ops/uncertainty.ts';
export { lstm } from './graph/ops/lstm.ts';
export { reshape } from './graph/ops/reshape.ts';
export { rowDot, sliceRows, splitRows } from './graph/ops/rows.ts';
export type { Activation } from './kernels/matmul.ts';

// Layers with dotted parameter names, and initialisers.
export { Module, type Parameter } from './nn/module.ts';
export { Linear, MLP, type LinearOptions, type MlpOptions } from './nn/linear.ts';
export { Embedding, FieldEmbeddings, type Field } from './nn/embedding.ts';
export { LSTM, type LstmOptions } from './nn/lstm.ts';
export { OneHotLinear } from './nn/one-hot.ts';
export { init, type Init } from './nn/init.ts';

// Optimizers.
export { AdamOptimizer, type AdamConfig } from './optim/adam.ts';
export { SgdOptimizer } from './optim/sgd.ts';
export { clipGradNorm } from './optim/clip.ts';
export { constant, cosine, stepDecay, warmup, type Schedule } from './optim/schedule.ts';

// Checkpoints.
export { CheckpointError, loadCheckpoint, saveCheckpoint, type CheckpointMeta } from './graph/checkpoint.ts';
export { decodeSafetensors, encodeSafetensors } from './log/safetensors.ts';

// Experiments: the descriptors, their trainers and the one training loop.
export { EXPERIMENTS, experiment } from './experiments/registry.ts';
export { trainLoop } from './experiments/loop.ts';
export { DeviceHolder, DeviceLossError, SurvivingTrainer, type DeviceLoss } from './experiments/device-loss.ts';
export { ConfigError, type OptionSpec } from './experiments/options.ts';
export type { Evaluation, Experiment, MetricSpec, RunResult, Trainer } from './experiments/types.ts';

// Data: bytes in, typed arrays out.
export { DataError } from './data/errors.ts';
export { parseRatings, readMovieLensZip, type Ratings } from './data/movielens.ts';
export { decodePackedOmniglot } from './data/omniglot.ts';
export type { OmniglotSet } from './data/omniglot-set.ts';
export { parseNpy } from './data/npy.ts';
export { buildTabular } from './data/tabular/build.ts';
export type { TabularData, TabularFile, TabularSettings, TaskSpec } from './data/tabular.ts';
export { MultitaskTrainer } from './models/multitask/trainer.ts';
export { MULTITASK_DEFAULTS, type MultitaskConfig } from './models/multitask/config.ts';

// Metrics on the host.
export { accuracy, auc, logLoss, prCurve, rocCurve } from './metrics/binary.ts';
export { meanReciprocalRank } from './metrics/ranking.ts';
export { mse } from './metrics/regression.ts';
