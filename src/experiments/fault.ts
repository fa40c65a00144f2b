// Fault injection, for the reliability tests and for trying it by hand: a device lost after the
// Nth (Mth…) training step a process submits, counting steps trained again after a loss, as a
// driver reset would at any moment. The CLI reads it from SHADERTRAIN_FAULT_LOSE_DEVICE, the
// page from its address (?fault_lose_device=N,M). Browser-safe.
import type { Gpu } from '../gpu/context.ts';
import { ConfigError } from './options.ts';

export const LOSE_DEVICE_ENV = 'SHADERTRAIN_FAULT_LOSE_DEVICE';
export const LOSE_DEVICE_PARAM = 'fault_lose_device';

/** The hook to call after each step submitted, or undefined when `text` asks for no fault; `source` names where it was given. */
export function deviceFault(text: string | null | undefined, source: string): ((gpu: Gpu) => void) | undefined {
  if (text === undefined || text === null || text === '') return undefined;
  const at = text.split(',').map((s) => Number(s.trim()));
  if (at.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new ConfigError(`${source} must be step counts from 1, comma-separated, not "${text}"`);
  let steps = 0;
  return (gpu) => {
    if (at.includes(++steps)) gpu.device.destroy();
  };
}
