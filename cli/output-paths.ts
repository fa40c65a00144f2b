// What a run will write, checked before any GPU work: every output path can be made and written,
// a fresh run never replaces a checkpoint it was not told to, and no two runs share a checkpoint
// or a logdir (a lock file holding the owner's pid), and --resume is given a checkpoint of this
// experiment. Nothing is created by the checks themselves.
import { accessSync, constants, closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { processAlive } from '../src/data/files-node.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { UserError } from './errors.ts';

/** Kernel file systems: recursive mkdir there never returns, and nothing written there is kept. */
const PSEUDO = ['/proc', '/sys', '/dev'];

/** The nearest ancestor of `path` (or `path` itself) that exists, resolved through links. */
function nearestExisting(path: string): string {
  let p = resolve(path);
  while (!existsSync(p)) p = dirname(p);
  return realpathSync(p);
}

/** Says why `path` cannot be written as a file (kind 'file') or made as a directory (kind 'dir'). */
export function checkWritable(flag: string, path: string, kind: 'file' | 'dir'): void {
  const full = resolve(path);
  const at = nearestExisting(full);
  const pseudo = PSEUDO.find((p) => at === p || at.startsWith(`${p}/`));
  if (pseudo) throw new UserError(`--${flag} ${path} is under ${pseudo}, a kernel file system; choose a path on a disk`);
  const st = statSync(at);
  if (existsSync(full)) {
    if (kind === 'file' && st.isDirectory()) throw new UserError(`--${flag} ${path} is a directory; give a file name inside it, such as ${resolve(path, 'model.safetensors')}`);
    if (kind === 'dir' && !st.isDirectory()) throw new UserError(`--${flag} ${path} is a file, not a directory; choose another path`);
  } else if (!st.isDirectory()) {
    throw new UserError(`--${flag} ${path}: ${at} is a file, not a directory; choose another path`);
  }
  // The file is replaced by a rename in its directory, so that directory must be writable too.
  const dir = st.isDirectory() ? at : dirname(at);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    if (!st.isDirectory()) accessSync(at, constants.W_OK);
  } catch {
    throw new UserError(`--${flag} ${path}: ${dir} is not writable; choose a path you can write`);
  }
}

/** --resume names a readable checkpoint file. */
export function checkResumable(path: string): void {
  if (!existsSync(path)) throw new UserError(`--resume ${path}: no such file`);
  if (statSync(path).isDirectory()) throw new UserError(`--resume ${path} is a directory; give the checkpoint file (the --checkpoint of the run to continue)`);
}

/** --resume is given a checkpoint of this experiment (checkpoints from before the experiment key are left to the settings check). */
export function checkResumeExperiment(experiment: string, bytes: Uint8Array, path: string): void {
  const other = readCheckpoint(bytes, path).experiment;
  if (other !== undefined && other !== experiment) throw new UserError(`--resume ${path} is a ${other} checkpoint, not ${experiment}; continue it with shadertrain ${other} --resume ${path}`);
}

/** A fresh run refuses to replace a checkpoint unless told to. */
export function checkNotOverwriting(checkpoint: string, resume: string | undefined, overwrite: boolean): void {
  if (overwrite || resume !== undefined || !existsSync(checkpoint)) return;
  throw new UserError(`--checkpoint ${checkpoint} already exists; continue it with --resume ${checkpoint}, or replace it with --overwrite`);
}

/** Removes `dir` and its parents up to `top` while they are empty: a refused run leaves no folders behind. */
function removeEmptyDirs(dir: string, top: string): void {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty: the run wrote there
    }
    if (d === resolve(top) || d === dirname(d)) return;
  }
}

/**
 * An exclusive claim on `target` (a checkpoint or a logdir) while this process runs: `<target>.lock`
 * holds the pid. A lock left by a process that is gone is taken over. Release with the returned function.
 */
export function lockPath(flag: string, target: string): () => void {
  const lock = `${resolve(target)}.lock`;
  const created = mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`--${flag} ${target}: cannot create its lock file ${lock} (${(err as NodeJS.ErrnoException).code}); choose a path you can write`);
      const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) throw new UserError(`--${flag} ${target} is in use by another run (pid ${pid}); wait for it to finish or choose another path`);
      unlinkSync(lock); // left by a run that is gone
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      try {
        if (readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
      } catch {
        // already gone
      }
      if (created !== undefined) removeEmptyDirs(dirname(lock), created);
    };
    process.once('exit', release);
    return release;
  }
  throw new UserError(`--${flag} ${target}: its lock file ${lock} keeps coming back; another run is starting on it`);
}
