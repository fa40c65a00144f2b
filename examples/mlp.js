// A custom model end to end with shadertrain: an MLP classifying the rows of a CSV (x, y, label),
// the rare class (label 1) given a larger weight in the loss. Browser-safe: node.mjs runs it in
// Node, index.html in a page.
import { AdamOptimizer, CompiledStep, gradients, Graph, Metrics, MLP, Rng, softmaxCrossEntropy, StagingRing } from 'shadertrain';

/** "x,y,label" rows after a header: features [n, 2] and labels [n]. */
export function parseCsv(text) {
  const rows = text.trim().split('\n').slice(1).map((line) => line.split(',').map(Number));
  return { x: Float32Array.from(rows.flatMap(([x, y]) => [x, y])), labels: Uint32Array.from(rows, (r) => r[2]), n: rows.length };
}

/** Trains on the first 80% of the rows (one full batch a step), then reports accuracy on the rest. */
export async function train(gpu, csvText, { steps = 300, positiveWeight = 3, log = console.log } = {}) {
  const { x, labels, n } = parseCsv(csvText);
  const nTrain = Math.floor(n * 0.8);
  const model = new MLP(new Rng(0), [2, 32, 32, 2]);
  // A graph per batch shape; the test step shares the weights and the metric sums by name.
  const build = (rows) => {
    const g = new Graph();
    const params = model.declare(g);
    const logits = model.forward(g, g.input('x', [rows, 2], 'f32'));
    const rowWeights = g.input('w', [rows], 'f32');
    const { loss, correct } = softmaxCrossEntropy(g, logits, g.input('label', [rows], 'u32'), { rowWeights });
    const metrics = new Metrics(g, ['loss', 'correct']);
    metrics.add(g, 'loss', loss);
    metrics.add(g, 'correct', correct);
    return { g, params, loss, metrics };
  };
  const feed = (from, to, weighted) => ({ x: x.slice(2 * from, 2 * to), label: labels.slice(from, to), w: Float32Array.from(labels.slice(from, to), (l) => (weighted && l === 1 ? positiveWeight : 1)) });
  const tr = build(nTrain);
  const optimizer = new AdamOptimizer({ lr: 0.01 }).attach(tr.g, gradients(tr.g, [tr.loss], [...tr.params.values()]));
  const trainStep = await CompiledStep.create(gpu, tr.g);
  const te = build(n - nTrain);
  const testStep = await CompiledStep.create(gpu, te.g, { shareWith: trainStep });
  const ring = new StagingRing(gpu);
  try {
    trainStep.feed(feed(0, nTrain, true)); // one batch: fed once, run every step
    for (let t = 1; t <= steps; t++) {
      optimizer.prepare(trainStep);
      trainStep.run();
      if (t % 100 === 0) log(`step ${t}: weighted loss ${(await tr.metrics.read(trainStep, ring, 100, t)).loss.toFixed(4)}`);
    }
    testStep.feed(feed(nTrain, n, false));
    testStep.run();
    const test = await te.metrics.read(testStep, ring, 1, steps);
    const accuracy = test.correct / (n - nTrain);
    log(`test accuracy ${accuracy.toFixed(3)} on ${n - nTrain} rows, loss ${test.loss.toFixed(4)}`);
    return { accuracy, loss: test.loss };
  } finally {
    ring.destroy();
    testStep.destroy();
    trainStep.destroy();
  }
}
