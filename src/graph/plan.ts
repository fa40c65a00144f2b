// The memory plan: values (tensors made inside the step) share buffers when their lifetimes
// do not overlap. A node's outputs are placed before its inputs are released, so no
// dispatch ever binds one buffer as both read-only and writable.
import type { Node, Tensor } from './graph.ts';

export interface MemoryPlan {
  /** Buffer slot of every value tensor. */
  slotOf: Map<Tensor, number>;
  /** Bytes of each slot. */
  slots: number[];
  /** Bytes of all slots: what the step's values really take. */
  peakBytes: number;
  /** Bytes the values would take with a buffer each. */
  totalBytes: number;
}

/**
 * Best-fit reuse over the node order. `kept` tensors (read after the step) are never
 * released; with `reuse` false every value gets its own slot (eager mode reads any of them).
 */
export function planMemory(nodes: readonly Node[], kept: ReadonlySet<Tensor>, reuse = true): MemoryPlan {
  const lastUse = new Map<Tensor, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) lastUse.set(o, i);
    for (const t of n.inputs) if (t.kind === 'value') lastUse.set(t, Math.max(lastUse.get(t) ?? i, i));
  });
  const slotOf = new Map<Tensor, number>();
  const slots: number[] = [];
  const free: number[] = [];
  let total = 0;
  const release = (t: Tensor): void => {
    if (reuse && !kept.has(t)) free.push(slotOf.get(t) as number);
  };
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      total += o.bytes;
      let best = -1;
      for (let k = 0; k < free.length; k++) {
        const s = slots[free[k]];
        if (s >= o.bytes && (best < 0 || s < slots[free[best]])) best = k;
      }
      if (best >= 0) {
        slotOf.set(o, free[best]);
        free.splice(best, 1);
      } else {
        slotOf.set(o, slots.length);
        slots.push(o.bytes);
      }
    }
    const done = new Set<Tensor>();
    for (const t of [...n.inputs, ...n.outputs]) {
      if (t.kind === 'value' && lastUse.get(t) === i && !done.has(t)) {
        done.add(t);
        release(t);
      }
    }
  });
  return { slotOf, slots, peakBytes: slots.reduce((a, b) => a + b, 0), totalBytes: total };
}
