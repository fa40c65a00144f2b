// A failed write during a run (a full disk, a folder removed or replaced underneath it) as one
// sentence naming the flag and the file, instead of Node's bare "ENOSPC: ..., write".
import { UserError } from './errors.ts';

/** Runs `write`, turning a file-system error into a sentence naming `--flag target` and `file`. */
export async function writingOutput<T>(flag: string, target: string, file: string, write: () => T | Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code !== 'string' || !e.code.startsWith('E')) throw err;
    const what = e.message.split(',')[0]; // "ENOSPC: no space left on device", without Node's syscall and paths
    const keeps = flag === 'checkpoint' ? '; every checkpoint written before is whole (writes are atomic)' : '';
    throw new UserError(`--${flag} ${target}: writing ${file === target ? 'to it' : file} failed (${what})${keeps}; free space or choose another path`);
  }
}
