// The built CLI's few-shot command as the Node tests run it, with the tiny model they train.
import { spawnSync } from 'node:child_process';

export const CLI_TIMEOUT = 120_000;

/** 2-way 1-shot, 8 hidden units, an evaluation every 5 steps: seconds per run, for testing the plumbing. */
export const TINY = ['--num_classes', '2', '--num_shot', '1', '--hidden_size', '8', '--meta_batch_size', '4', '--eval_batch_size', '8', '--eval_every', '5'];

export function fewshotCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'fewshot', ...args], { encoding: 'utf8', timeout: CLI_TIMEOUT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI's own lines on stderr (Dawn may print adapter warnings of its own). */
export const ownLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('shadertrain:'));
