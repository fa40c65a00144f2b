// Errors in a user's data: one sentence naming the file (and line, where there is one).
export class DataError extends Error {
  override name = 'DataError';
}

/** "FILE line N: what is wrong" */
export function lineError(file: string, line: number, what: string): DataError {
  return new DataError(`${file} line ${line}: ${what}`);
}
