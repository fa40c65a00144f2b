// Learning-rate schedules: the rate for step t (1-based), computed on the host and written
// into the optimizer's per-step uniform. Plain functions, so any formula can be passed.
export type Schedule = (step: number) => number;

export const constant = (lr: number): Schedule => () => lr;

/** lr · gamma^floor((t-1) / every), as torch's StepLR stepped once per optimizer step. */
export const stepDecay = (lr: number, every: number, gamma: number): Schedule => (t) => lr * gamma ** Math.floor((t - 1) / every);

/** Cosine from lr down to minLr over `total` steps, then minLr (CosineAnnealingLR without restarts). */
export const cosine =
  (lr: number, total: number, minLr = 0): Schedule =>
  (t) =>
    t >= total ? minLr : minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * (t - 1)) / total))) / 2;

/** Linear warm-up from lr/warmup to lr over `warmup` steps, then `after` (shifted to start at 1). */
export const warmup =
  (warmupSteps: number, after: Schedule): Schedule =>
  (t) =>
    t <= warmupSteps ? (after(1) * t) / warmupSteps : after(t - warmupSteps);
