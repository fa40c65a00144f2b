// Files in Node: the only place (with the browser's fetch adapter to come) that knows where
// bytes live. Writes go to a temporary name first, are flushed to the disk, then renamed, and the
// rename is flushed too: a crash or a power cut never leaves half a file, nor loses a finished one.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `.NAME.PID.RANDOM.tmp`: the pid tells a crashed writer's leftovers from a live one's. */
function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Whether process `pid` still runs. One that has exited but was never reaped (an orphan in a container without an init) counts as gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Removes the temporary files that writers of `path` killed mid-write left beside it. */
async function removeLeftovers(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  for (const name of await readdir(dirname(path))) {
    const m = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (m && !processAlive(Number(m[1]))) await rm(join(dirname(path), name), { force: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await removeLeftovers(path);
  const tmp = tmpName(path);
  try {
    const fd = await open(tmp, 'wx');
    try {
      await fd.writeFile(bytes);
      await fd.sync();
    } finally {
      await fd.close();
    }
    await rename(tmp, path);
    await syncDir(dirname(path));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function readFileBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}
