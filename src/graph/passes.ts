// Graph passes: the rewrite rules that turn the plain ops a model writes into fused kernels, in
// one ordered table. CompiledStep.create runs them, so no model opts into a fusion. Each rule
// looks at one node and, when its pattern matches, rewrites it in place (Graph.rewrite), keeping
// the tensors other nodes read; every rule here gives the same bits as the graph it rewrites.
import type { Graph, Node } from './graph.ts';
import { foldInputBiasGrad, fuseDenseMse } from './ops/dense-mse.ts';
import { foldAddIntoPairBackward } from './ops/elementwise.ts';
import { foldPaddedAdd } from './ops/rows.ts';

export interface Pass {
  readonly name: string;
  /** Rewrites the graph around `node` if the pattern matches there; says whether it did. */
  apply(g: Graph, node: Node): boolean;
}

/**
 * In order: a rule runs over the whole graph before the next starts, so an earlier rule has
 * first claim on a node both match (a gradient sum into pair_features_backward, padded or not,
 * before add_rows takes a padded addend), and a rule can build on an earlier one's result (the
 * input bias gradient folds into a dense_mse_loss the first rule made).
 */
export const PASSES: readonly Pass[] = [
  { name: 'dense layer and MSE as dense_mse_loss', apply: fuseDenseMse },
  { name: 'gradient sum into pair_features_backward', apply: foldAddIntoPairBackward },
  { name: 'padded gradient sum as add_rows', apply: foldPaddedAdd },
  { name: 'input bias gradient into dense_mse_loss', apply: foldInputBiasGrad },
];

/** Runs every pass over `g` once, in order; returns how many times each fired. */
export function optimize(g: Graph, passes: readonly Pass[] = PASSES): Map<string, number> {
  const fired = new Map<string, number>();
  for (const pass of passes) {
    let n = 0;
    // A snapshot: a rewrite removes nodes (absorbed ones are skipped below).
    for (const node of [...g.nodes]) if (g.nodes.includes(node) && pass.apply(g, node)) n++;
    fired.set(pass.name, n);
  }
  return fired;
}
