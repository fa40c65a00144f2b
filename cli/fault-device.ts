// Fault injection for the reliability tests and for trying it by hand: with
// SHADERTRAIN_FAULT_LOSE_DEVICE=N[,M…] the run destroys its GPU device after the Nth (Mth…)
// training step this process submits, counting steps trained again after a loss, as a driver
// reset would at any moment. Unset, it does nothing.
import type { Gpu } from '../src/gpu/context.ts';
import { UserError } from './errors.ts';

export const LOSE_DEVICE_ENV = 'SHADERTRAIN_FAULT_LOSE_DEVICE';

/** The hook to call after each step submitted, or undefined when no fault is asked for. */
export function deviceFault(env: Record<string, string | undefined> = process.env): ((gpu: Gpu) => void) | undefined {
  const text = env[LOSE_DEVICE_ENV];
  if (text === undefined || text === '') return undefined;
  const at = text.split(',').map((s) => Number(s.trim()));
  if (at.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new UserError(`${LOSE_DEVICE_ENV} must be step counts from 1, comma-separated, not "${text}"`);
  let steps = 0;
  return (gpu) => {
    if (at.includes(++steps)) gpu.device.destroy();
  };
}
