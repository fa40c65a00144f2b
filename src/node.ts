// The engine in Node (package.json's "node" condition): everything in src/index.ts, and reading
// data sets from files, writing logs (TensorBoard, JSONL) and files atomically.
export * from './index.ts';
export { loadEmbeddedOmniglot, loadOmniglot } from './data/omniglot-node.ts';
export { readMovieLensPath, resolveMovieLens } from './data/movielens-node.ts';
export { readFileBytes, writeFileAtomic } from './data/files-node.ts';
export { readTabularFiles } from './data/tabular/files-node.ts';
export { RunLog } from './log/run-log-node.ts';
export { TensorBoardWriter } from './log/tensorboard-node.ts';
export { JsonlWriter } from './log/jsonl-node.ts';
