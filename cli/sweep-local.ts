// A sweep run on this machine: the configurations not yet finished, P at a time, each in a child
// process of this same command (`shadertrain sweep SPEC --index I`), all sharing the adapter.
// One overall progress line (done/total, ETA); each child's output goes to its own .log file.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import type { Configuration } from '../src/sweep/expand.ts';
import { describe } from '../src/sweep/expand.ts';
import { UserError } from './errors.ts';
import { formatSpan } from './progress.ts';
import { finished, outputFile, started } from './sweep-files.ts';

export interface LocalOptions {
  logdir: string;
  parallel: number;
  /** The child's arguments for configuration `index`. */
  childArgs(index: number): string[];
  stream?: NodeJS.WriteStream;
}

function lastLine(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    return lines[lines.length - 1] ?? '';
  } catch {
    return '';
  }
}

export async function runLocal(configs: readonly Configuration[], o: LocalOptions): Promise<number> {
  const out = o.stream ?? process.stderr;
  const say = (s: string): void => void out.write(`${s}\n`);
  const todo = configs.filter((c) => !finished(o.logdir, c));
  const total = configs.length;
  let done = total - todo.length;
  if (todo.length === 0) {
    say(`sweep: all ${total} configurations have finished; logs in ${o.logdir}`);
    return 0;
  }
  const resuming = todo.filter((c) => started(o.logdir, c)).length;
  say(
    `sweep: ${total} configurations, ${done} finished before (skipped), ${todo.length} to run${resuming ? ` (${resuming} resume from their checkpoints)` : ''}, ${o.parallel} at a time; logs in ${o.logdir}`,
  );
  mkdirSync(o.logdir, { recursive: true });
  const t0 = Date.now();
  let ranHere = 0;
  const failed: string[] = [];
  const running = new Map<number, ChildProcess>();
  const tty = out.isTTY === true;
  const status = (): string => {
    const eta = ranHere === 0 ? NaN : ((Date.now() - t0) / 1000 / ranHere) * (todo.length - ranHere - failed.length);
    return `sweep ${done}/${total} done, ${running.size} running${failed.length ? `, ${failed.length} failed` : ''} | ETA ${formatSpan(eta)}`;
  };
  const draw = (): void => {
    if (tty) out.write(`\r\x1b[K${status()}`);
  };
  const line = (s: string): void => {
    if (tty) out.write('\r\x1b[K');
    say(s);
    draw();
  };
  // Stopping the sweep stops its runs; their checkpoints stay for the next run to resume.
  // The runs are stopped at once (SIGTERM: Ctrl-C would let each go on to its next step or evaluation), and
  // waited for, so that their locks are free when the sweep is run again.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true; // no configuration starts after this
    const left = [...running.values()];
    for (const child of left) child.kill('SIGTERM');
    if (tty) out.write('\n');
    say(`sweep: stopped by ${signal}; ${done}/${total} finished, run it again to continue`);
    const code = signal === 'SIGINT' ? 130 : 143;
    let waiting = left.length;
    if (waiting === 0) process.exit(code);
    for (const child of left) child.once('exit', () => --waiting === 0 && process.exit(code));
    setTimeout(() => process.exit(code), 10_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const queue = [...todo];
  const runOne = (c: Configuration): Promise<void> =>
    new Promise((resolve) => {
      const log = outputFile(o.logdir, c);
      const fd = openSync(log, 'a');
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...o.childArgs(c.index)], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      running.set(c.index, child);
      draw();
      const t = Date.now();
      child.on('exit', (code, signal) => {
        running.delete(c.index);
        if (stopping && code !== 0) {
          // Stopped with the sweep: not a failure.
        } else if (code === 0) {
          done++;
          ranHere++;
          line(`[${done}/${total}] ${c.index} ${describe(c.swept)}: finished in ${formatSpan((Date.now() - t) / 1000)} | ETA ${formatSpan(((Date.now() - t0) / 1000 / ranHere) * (todo.length - ranHere - failed.length))}`);
        } else {
          failed.push(`${c.index}`);
          line(`configuration ${c.index} (${describe(c.swept)}) failed (${signal ?? `exit ${code}`}): ${lastLine(log)} (see ${log})`);
        }
        resolve();
      });
    });
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c && !stopping; c = queue.shift()) await runOne(c);
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, todo.length) }, worker));
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (tty) out.write('\r\x1b[K');
  if (failed.length) throw new UserError(`${failed.length} of ${total} configurations failed (${failed.join(', ')}); their output is in ${o.logdir}/*.log, and running the sweep again retries them`);
  say(`sweep: all ${total} configurations have finished in ${formatSpan((Date.now() - t0) / 1000)}; logs in ${o.logdir}`);
  return 0;
}
