// Matrix products as graph ops: the forward with its fused bias + activation epilogue (a
// dense layer is one dispatch), and the backward as products with transposed operands.
import { ActBackward, ActForward, BiasGrad, matmulShapeOf, type Activation } from '../../kernels/matmul.ts';
import { createTunedMatmul } from '../../kernels/matmul-tune.ts';
import { GraphError, shapeString, type Graph, type Node, type OpKind, type Tensor } from '../graph.ts';

export interface MatmulAttrs {
  transA: boolean;
  transB: boolean;
  activation: Activation;
}

function dims(op: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new GraphError(`${op}: ${t} must be 2-D, got ${shapeString(t)}`);
  return [t.shape[0], t.shape[1]];
}

const matmulOp: OpKind<MatmulAttrs> = {
  name: 'matmul',
  outputs(inputs, a) {
    const [x, w, bias] = inputs;
    let s;
    try {
      s = matmulShapeOf(dims('matmul', x), dims('matmul', w), a);
    } catch (err) {
      throw new GraphError(`matmul: ${x} ${shapeString(x)} and ${w} ${shapeString(w)} do not multiply (${(err as Error).message})`);
    }
    if (bias && bias.size !== s.n) throw new GraphError(`matmul: bias ${bias} ${shapeString(bias)} must have ${s.n} values`);
    return [{ name: `${x.name}@${w.name}`, shape: [s.m, s.n], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [x, w, bias] = node.inputs;
    const a = node.attrs;
    const shape = matmulShapeOf(dims('matmul', x), dims('matmul', w), a);
    const k = await createTunedMatmul(ctx.gpu, shape, { transA: a.transA, transB: a.transB, bias: !!bias, activation: a.activation }, ctx.scope);
    return [k.bind({ a: ctx.buffer(x), b: ctx.buffer(w), c: ctx.buffer(node.outputs[0]), ...(bias ? { bias: ctx.buffer(bias) } : {}) })];
  },
  grad(g, node, [dY], needed) {
    const [x, w, bias] = node.inputs;
    const { transA, transB, activation } = node.attrs;
    if (transA || transB) throw new GraphError('matmul: gradients of transposed products are not implemented (they only appear inside backward passes)');
    const dZ = activation === 'none' ? (dY as Tensor) : g.apply(actBackwardOp, [dY as Tensor, node.outputs[0]], { activation })[0];
    const dX = needed[0] ? matmul(g, dZ, w, { transB: true }) : null;
    const dW = needed[1] ? matmul(g, x, dZ, { transA: true }) : null;
    const dB = bias && needed[2] ? g.apply(biasGradOp, [dZ], {})[0] : null;
    return bias ? [dX, dW, dB] : [dX, dW];
  },
};

const actBackwardOp: OpKind<{ activation: Activation }> = {
  name: 'act_backward',
  outputs([dY]) {
    return [{ name: `${dY.name}.dz`, shape: dY.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [dY, y] = node.inputs;
    const k = await ActBackward.create(ctx.gpu, dY.size, { activation: node.attrs.activation }, ctx.scope);
    return [k.bind({ dy: ctx.buffer(dY), y: ctx.buffer(y), dz: ctx.buffer(node.outputs[0]) })];
  },
};

const activateOp: OpKind<{ activation: Activation }> = {
  name: 'activate',
  outputs([x], a) {
    return [{ name: `${x.name}.${a.activation}`, shape: x.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const k = await ActForward.create(ctx.gpu, node.inputs[0].size, { activation: node.attrs.activation }, ctx.scope);
    return [k.bind({ x: ctx.buffer(node.inputs[0]), y: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [dY]) {
    return [g.apply(actBackwardOp, [dY as Tensor, node.outputs[0]], { activation: node.attrs.activation })[0]];
  },
};

/** act(x) elementwise (x itself for 'none'), its backward from the output as the dense layer's is. */
export function activate(g: Graph, x: Tensor, activation: Activation): Tensor {
  return activation === 'none' ? x : g.apply(activateOp, [x], { activation })[0];
}

const biasGradOp: OpKind<Record<string, never>> = {
  name: 'bias_grad',
  outputs([dZ]) {
    return [{ name: `${dZ.name}.db`, shape: [dZ.shape[1]], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [dZ] = node.inputs;
    const k = await BiasGrad.create(ctx.gpu, { m: dZ.shape[0], n: dZ.shape[1] }, {}, ctx.scope);
    return k.bind({ dz: ctx.buffer(dZ), db: ctx.buffer(node.outputs[0]) });
  },
};

/** Whether `node` is a dense layer's bias gradient (column sums of dz). */
export function isBiasGrad(node: Node): boolean {
  return node.op === (biasGradOp as OpKind<unknown>);
}

/** A matmul node's transposes and activation, or null for a node of another op (for the graph passes). */
export function matmulAttrs(node: Node): Readonly<MatmulAttrs> | null {
  return node.op === (matmulOp as OpKind<unknown>) ? (node.attrs as MatmulAttrs) : null;
}

/** Whether `node` is the backward of `activation` (dz from dy and the activation's output). */
export function isActBackward(node: Node, activation: Activation): boolean {
  return node.op === (actBackwardOp as OpKind<unknown>) && (node.attrs as { activation: Activation }).activation === activation;
}

/** Rewrites matmul node `node` in place to end in `activation` instead, writing the same tensor (a graph pass moved its old one elsewhere). */
export function setActivation(g: Graph, node: Node, activation: Activation): void {
  g.rewrite(node, matmulOp, node.inputs, node.outputs, { ...(node.attrs as MatmulAttrs), activation });
}

export function matmul(g: Graph, a: Tensor, b: Tensor, o: { transA?: boolean; transB?: boolean; bias?: Tensor; activation?: Activation } = {}): Tensor {
  const inputs = o.bias ? [a, b, o.bias] : [a, b];
  return g.apply(matmulOp, inputs, { transA: !!o.transA, transB: !!o.transB, activation: o.activation ?? 'none' })[0];
}

/** act(x·W + b) with W stored [in, out]: one dispatch forward. */
export function dense(g: Graph, x: Tensor, w: Tensor, b: Tensor | undefined, activation: Activation = 'none'): Tensor {
  return matmul(g, x, w, { bias: b, activation });
}
