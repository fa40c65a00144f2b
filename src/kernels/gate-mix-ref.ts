// Float64 references for MMoE's gate mixture (shaders/gate-mix.wgsl).

/** B rows, E experts of U units each: gate logits [B, E], experts [B, E·U], mixture [B, U]. */
export interface GateShape {
  rows: number;
  experts: number;
  units: number;
}

/** p = softmax(logits) per row (row max subtracted); out[b, u] = Σ_e p[b, e] · experts[b, e·U + u]. */
export function gateMixRef(logits: ArrayLike<number>, experts: ArrayLike<number>, s: GateShape): { out: Float64Array; probs: Float64Array } {
  const { rows: B, experts: E, units: U } = s;
  const out = new Float64Array(B * U);
  const probs = new Float64Array(B * E);
  for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (let e = 0; e < E; e++) m = Math.max(m, logits[b * E + e]);
    let total = 0;
    for (let e = 0; e < E; e++) total += Math.exp(logits[b * E + e] - m);
    for (let e = 0; e < E; e++) {
      const pe = Math.exp(logits[b * E + e] - m) / total;
      probs[b * E + e] = pe;
      for (let u = 0; u < U; u++) out[b * U + u] += pe * experts[b * E * U + e * U + u];
    }
  }
  return { out, probs };
}

/**
 * dExperts[b, e·U + u] = p[b, e] · dOut[b, u]; dLogits[b, e] = p[b, e] · (s_e - Σ_e' p[b, e'] s_e')
 * with s_e = Σ_u dOut[b, u] · experts[b, e·U + u].
 */
export function gateMixBackwardRef(
  dOut: ArrayLike<number>,
  probs: ArrayLike<number>,
  experts: ArrayLike<number>,
  s: GateShape,
): { dLogits: Float64Array; dExperts: Float64Array } {
  const { rows: B, experts: E, units: U } = s;
  const dLogits = new Float64Array(B * E);
  const dExperts = new Float64Array(B * E * U);
  for (let b = 0; b < B; b++) {
    const score = new Float64Array(E);
    let mean = 0;
    for (let e = 0; e < E; e++) {
      for (let u = 0; u < U; u++) {
        score[e] += dOut[b * U + u] * experts[b * E * U + e * U + u];
        dExperts[b * E * U + e * U + u] = probs[b * E + e] * dOut[b * U + u];
      }
      mean += probs[b * E + e] * score[e];
    }
    for (let e = 0; e < E; e++) dLogits[b * E + e] = probs[b * E + e] * (score[e] - mean);
  }
  return { dLogits, dExperts };
}
