// The bench's baseline for the fused LSTM cell (src/kernels/lstm.ts): activations and cell update
// as separate dispatches (lstm-unfused.wgsl), two per step and direction, with the same bits.
// Same create/bind as LstmCellForward and LstmCellBackward.
import common from '../../shaders/lstm-common.wgsl';
import unfusedBody from './lstm-unfused.wgsl';
import type { BufferScope } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/context.ts';
import { grid1d, type Dispatch } from '../../src/kernels/kernel.ts';
import {
  checkLstmShape,
  DEFAULT_LSTM_WG,
  fmtLstm,
  lstmBytes,
  LstmSteps,
  type LstmBackwardBuffers,
  type LstmForwardBuffers,
  type LstmOptions,
  type LstmShape,
} from '../../src/kernels/lstm.ts';
import { Kernel } from '../../src/kernels/spec.ts';

// The shared activations are one definition in both variants: they must agree bit for bit.
const source = `${common}\n${unfusedBody}`;

function parts(gpu: Gpu, kernel: string, shape: LstmShape, wg: number) {
  const bh = shape.batch * shape.hidden;
  return { kernel, source, constants: { WG: wg }, shape: fmtLstm(shape), perCell: grid1d(gpu, bh, wg), perGate: grid1d(gpu, 4 * bh, wg) };
}

export class LstmUnfusedForward {
  static readonly kernel = 'lstm_cell_forward';

  private constructor(
    private readonly act: Kernel<'ap' | 'gx' | 'gh' | 'gates'>,
    private readonly update: Kernel<'up' | 'act' | 'c_seq' | 'h_seq'>,
    private readonly steps: LstmSteps,
  ) {}

  static async create(gpu: Gpu, shape: LstmShape, opts: LstmOptions = {}, scope: BufferScope = gpu.buffers): Promise<LstmUnfusedForward> {
    const kernel = LstmUnfusedForward.kernel;
    const wg = opts.workgroupSize ?? DEFAULT_LSTM_WG;
    checkLstmShape(gpu, kernel, shape, wg);
    const bytes = lstmBytes(shape);
    const { perCell, perGate, ...c } = parts(gpu, kernel, shape, wg);
    const [act, update] = await Promise.all([
      Kernel.create(gpu, { ...c, entry: 'gate_act', sizes: { ap: 16, gx: bytes.seqGates, gh: bytes.stepGates, gates: bytes.seqGates }, grid: perGate }, scope),
      Kernel.create(gpu, { ...c, entry: 'cell_update', sizes: { up: 16, act: bytes.seqGates, c_seq: bytes.seqState, h_seq: bytes.seqState }, grid: perCell }, scope),
    ]);
    return new LstmUnfusedForward(act, update, new LstmSteps(kernel, shape, scope));
  }

  /** The two dispatches of step t, in order. */
  bind(b: LstmForwardBuffers, t: number): Dispatch[] {
    const u = this.steps.at(t);
    const k = `${LstmUnfusedForward.kernel}[t=${t}]`;
    return [
      { ...this.act.bind({ ap: u, gx: b.gx, gh: b.gh, gates: b.gates }), label: `${k}.gate_act` },
      { ...this.update.bind({ up: u, act: b.gates, c_seq: b.c, h_seq: b.h }), label: `${k}.cell_update` },
    ];
  }
}

export class LstmUnfusedBackward {
  static readonly kernel = 'lstm_cell_backward';

  private constructor(
    private readonly cell: Kernel<'cp' | 'saved_gates' | 'saved_c' | 'dh_out' | 'dh_rec' | 'dc' | 'd_post'>,
    private readonly act: Kernel<'gp' | 'post' | 'd_pre'>,
    private readonly steps: LstmSteps,
  ) {}

  static async create(gpu: Gpu, shape: LstmShape, opts: LstmOptions = {}, scope: BufferScope = gpu.buffers): Promise<LstmUnfusedBackward> {
    const kernel = LstmUnfusedBackward.kernel;
    const wg = opts.workgroupSize ?? DEFAULT_LSTM_WG;
    checkLstmShape(gpu, kernel, shape, wg);
    const bytes = lstmBytes(shape);
    const { perCell, perGate, ...c } = parts(gpu, kernel, shape, wg);
    const [cell, act] = await Promise.all([
      Kernel.create(
        gpu,
        {
          ...c,
          entry: 'cell_backward',
          sizes: {
            cp: 16,
            saved_gates: bytes.seqGates,
            saved_c: bytes.seqState,
            dh_out: bytes.seqState,
            dh_rec: bytes.stepState,
            dc: bytes.stepState,
            d_post: bytes.seqGates,
          },
          grid: perCell,
        },
        scope,
      ),
      Kernel.create(gpu, { ...c, entry: 'gate_act_backward', sizes: { gp: 16, post: bytes.seqGates, d_pre: bytes.seqGates }, grid: perGate }, scope),
    ]);
    return new LstmUnfusedBackward(cell, act, new LstmSteps(kernel, shape, scope));
  }

  /** The two dispatches of step t, in order. Call for t = T-1 down to 0. */
  bind(b: LstmBackwardBuffers, t: number): Dispatch[] {
    const u = this.steps.at(t);
    const k = `${LstmUnfusedBackward.kernel}[t=${t}]`;
    return [
      {
        ...this.cell.bind({ cp: u, saved_gates: b.gates, saved_c: b.c, dh_out: b.dhOut, dh_rec: b.dhRec, dc: b.dc, d_post: b.dGates }),
        label: `${k}.cell_backward`,
      },
      { ...this.act.bind({ gp: u, post: b.gates, d_pre: b.dGates }), label: `${k}.gate_act_backward` },
    ];
  }
}
