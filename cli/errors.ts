// Errors a user can act on: printed as one sentence, never with a stack trace.
export class UserError extends Error {
  override name = 'UserError';
}

/** Errors that already say what to do, from anywhere in the engine. */
const USER_FACING = new Set(['UserError', 'NoWebGPUError', 'DeviceLostError', 'KernelError', 'DataError', 'ConfigError', 'CheckpointError', 'SafetensorsError', 'NonFiniteError', 'DivergenceError', 'DeviceLossError']);

export function describeError(err: unknown): { message: string; expected: boolean } {
  if (err instanceof Error) return { message: err.message, expected: USER_FACING.has(err.name) };
  return { message: String(err), expected: false };
}
