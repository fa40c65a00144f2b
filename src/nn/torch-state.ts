// A model's weights as PyTorch's `state_dict` holds them, for `shadertrain export --format
// pytorch`: the module tree gives each layer's kind, and each kind has PyTorch's names and
// layouts. Linear: `weight` [out, in] (stored here [in, out]) and `bias`. Embedding: `weight`.
// LSTM: `weight_ih_l0` [4H, in], `weight_hh_l0` [4H, H], gates i, f, g, o as here, and the one
// bias here (PyTorch's b_ih + b_hh) as `bias_ih_l0` with `bias_hh_l0` zero. A one-hot layer is
// the nn.Linear over [one-hot fields, continuous columns] it stands for; packed field
// embeddings are one nn.Embedding. A bare parameter is an nn.Parameter under its own name.
import type { CheckpointFile } from '../graph/checkpoint.ts';
import { CheckpointError } from '../graph/checkpoint.ts';
import type { StTensor } from '../log/safetensors.ts';
import { Embedding, FieldEmbeddings } from './embedding.ts';
import { Linear } from './linear.ts';
import { LSTM } from './lstm.ts';
import { dotted, Module, Parameter } from './module.ts';
import { OneHotLinear } from './one-hot.ts';

/** [rows, cols] row-major → [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** The weights a model's parameters name, read from a checkpoint: a missing or misshapen tensor is one sentence. */
export function checkpointWeights(file: CheckpointFile): (name: string, shape: readonly number[]) => Float32Array {
  return (name, shape) => {
    const t = file.tensors[name];
    const why = !t ? 'is missing' : t.dtype !== 'F32' ? `is ${t.dtype}, expected F32` : t.shape.join() !== shape.join() ? `is [${t.shape.join(', ')}], the model has [${shape.join(', ')}]` : '';
    if (why) throw new CheckpointError(`${file.source} does not fit the model its config describes: tensor "${name}" ${why}`);
    return t.data as Float32Array;
  };
}

/**
 * `model`'s parameters in PyTorch's names and layouts. `read(name, shape)` gives a parameter's
 * values by its checkpoint name; `rename` maps a module's path to the PyTorch module's attribute
 * path (an experiment whose original names its layers differently).
 */
export function torchStateDict(model: Module, read: (name: string, shape: readonly number[]) => Float32Array, rename: (path: string) => string = (p) => p): Record<string, StTensor> {
  const names = new Map([...model.namedParameters()].map(([n, p]) => [p, n]));
  const value = (p: Parameter): Float32Array => read(names.get(p) as string, p.shape);
  const out: Record<string, StTensor> = {};
  const put = (path: string, name: string, shape: number[], data: Float32Array): void => {
    const key = dotted(rename(path), name);
    if (out[key]) throw new CheckpointError(`two tensors would be exported as "${key}"`);
    out[key] = { dtype: 'F32', shape, data };
  };
  const visit = (m: Module, path: string): void => {
    if (m instanceof Linear) {
      put(path, 'weight', [m.outFeatures, m.inFeatures], transpose(value(m.weight), m.inFeatures, m.outFeatures));
      if (m.bias) put(path, 'bias', [m.outFeatures], value(m.bias));
    } else if (m instanceof Embedding) {
      put(path, 'weight', [m.rows, m.dim], value(m.table));
    } else if (m instanceof FieldEmbeddings && m.layout === 'packed') {
      const t = m.tables[0];
      put(path, 'weight', [t.rows, t.dim], value(t.table));
    } else if (m instanceof LSTM) {
      const [I, H] = [m.inputSize, m.hidden];
      put(path, 'weight_ih_l0', [4 * H, I], transpose(value(m.inputWeight), I, 4 * H));
      put(path, 'weight_hh_l0', [4 * H, H], transpose(value(m.recurrentWeight), H, 4 * H));
      put(path, 'bias_ih_l0', [4 * H], value(m.bias));
      put(path, 'bias_hh_l0', [4 * H], new Float32Array(4 * H));
    } else if (m instanceof OneHotLinear) {
      // The one-hot rows (packed table, field after field) then the continuous columns' rows: [in, width].
      const parts = [...(m.fields ? [value(m.fields.tables[0].table)] : []), ...(m.continuous ? [value(m.continuous.weight)] : [])];
      const weight = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (weight.set(p, at), at + p.length), 0);
      const inputs = weight.length / m.width;
      put(path, 'weight', [m.width, inputs], transpose(weight, inputs, m.width));
      const bias = m.continuous?.bias ?? m.bias?.value;
      put(path, 'bias', [m.width], value(bias as Parameter));
    } else {
      for (const [name, member] of m.entries()) {
        if (member instanceof Module) visit(member, dotted(path, name));
        else put(path, name, [...member.shape], value(member));
      }
    }
  };
  visit(model, '');
  return out;
}
