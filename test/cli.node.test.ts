// The runtime as a user meets it in Node: finding SwiftShader without VK_ICD_FILENAMES,
// one clear error without WebGPU, and a process that exits by itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const TIMEOUT = 60_000;

/** The environment a user has: no ICD chosen by hand (the test process may have set one). */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('VK_ICD_FILENAMES' in extra)) delete env.VK_ICD_FILENAMES;
  return env;
}

function cli(args: string[], extra: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { env: userEnv(extra), encoding: 'utf8', timeout: TIMEOUT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
});

describe('shadertrain info', () => {
  it('finds an adapter without VK_ICD_FILENAMES and reports it', () => {
    const r = cli(['info', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { adapter: { vendor: string; software: boolean; limits: Record<string, number> } };
    expect(out.adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    console.log(`CLI adapter: ${out.adapter.vendor} (software: ${out.adapter.software})`);
  });

  it('says what to install when there is no WebGPU at all', () => {
    const r = cli(['info'], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/shadertrain: No WebGPU adapter found\. .*apt-get install -y chromium libvulkan1/);
    expect(r.stderr).not.toMatch(/at .*\.(?:js|ts|mjs):\d+:\d+/); // no JS stack trace (Dawn prints C++ locations)
  });

  it('lists the adapters when asked for one that does not exist', () => {
    const r = cli(['info', '--adapter', 'no such adapter']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Dawn could not open adapter "no such adapter".*\n.*Available adapters/);
  });

  it('rejects an unknown command with usage', () => {
    const r = cli(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });
});

describe('shadertrain as a command', () => {
  it('is package.json\'s bin: an executable with a shebang that prints the version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; bin: Record<string, string> };
    expect(pkg.bin.shadertrain).toBe('dist/cli.js');
    const r = spawnSync('./dist/cli.js', ['--version'], { env: userEnv(), encoding: 'utf8', timeout: TIMEOUT });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('lists its commands with examples', () => {
    const r = cli(['--help']);
    expect(r.status, r.stderr).toBe(0);
    for (const name of ['recommender', 'fewshot', 'info']) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(r.stdout).toMatch(/^examples:\n  shadertrain /m);
  });

  it('gives every command a --help with examples', () => {
    const commands = [...cli(['--help']).stdout.matchAll(/^  ([a-z]+)  +\S/gm)].map((m) => m[1]);
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const name of commands) {
      const r = cli([name, '--help']);
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`^usage: shadertrain ${name} `));
      expect(r.stdout, name).toMatch(new RegExp(`^examples:\n  shadertrain ${name}`, 'm'));
    }
  });
});

describe('process lifetime', () => {
  it('exits by itself once the device is destroyed', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/exit-by-itself.ts'], {
      env: userEnv(),
      encoding: 'utf8',
      timeout: TIMEOUT,
    });
    expect(r.error, 'the process did not exit by itself').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/read 1,2,3 on /);
  });
});

describe('shadertrain setup', () => {
  // VK_ICD_FILENAMES pointing nowhere makes a machine without an adapter; setup never installs then.
  const NO_ADAPTER = { VK_ICD_FILENAMES: '/nonexistent/icd.json' };
  /** The CLI's own lines (Dawn prints warnings of its own while probing). */
  const own = (stderr: string): string => stderr.split('\n').filter((l) => l.startsWith('shadertrain') || /^  (sudo )?apt-get /.test(l)).join('\n');

  it('installs nothing and says nothing where there is an adapter and a Chromium', () => {
    const r = cli(['setup', '--browser']);
    expect(r.status, r.stderr).toBe(0);
    expect(own(r.stderr)).toBe('');
  });

  it('prints the exact command and fails when installing is turned off', () => {
    const r = cli(['setup'], { ...NO_ADAPTER, SHADERTRAIN_NO_INSTALL: '1' });
    expect(r.status).toBe(1);
    expect(own(r.stderr)).toMatch(/^shadertrain setup: there is no WebGPU adapter on this machine .*; not installing SwiftShader.* \(SHADERTRAIN_NO_INSTALL=1 is set\)\. Install it with:\n  (sudo )?apt-get update && (sudo )?apt-get install -y chromium libvulkan1$/);
  });

  it.runIf(process.getuid?.() === 0 && existsSync('/usr/bin/setpriv'))('prints the command with sudo and fails when not root', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, 'dist/cli.js', 'setup'], { env: userEnv(NO_ADAPTER), encoding: 'utf8', timeout: TIMEOUT });
    expect(r.status, r.stderr).toBe(1);
    expect(own(r.stderr)).toMatch(/\(this needs root\)\. Install it with:\n  sudo apt-get update && sudo apt-get install -y chromium libvulkan1$/);
  });

  it.runIf(process.getuid?.() === 0)('installs nothing when VK_ICD_FILENAMES, set by hand, gives no adapter', () => {
    const r = cli(['setup'], NO_ADAPTER);
    expect(r.status).toBe(1);
    expect(own(r.stderr)).toBe('shadertrain setup: VK_ICD_FILENAMES=/nonexistent/icd.json gives no WebGPU adapter; unset it, or point it at a Vulkan ICD that exists.');
  });
});

describe('shadertrain demo', () => {
  it('trains few-shot Omniglot offline, says where the logs went and what to run next', () => {
    const logdir = mkdtempSync(join(tmpdir(), 'shadertrain-demo-'));
    try {
      const r = cli(['demo', '--steps', '20', '--eval_every', '10', '--eval_batch_size', '16', '--logdir', logdir]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^adapter: /m);
      expect(r.stderr).toMatch(/^training N2_K1_H128_seed0 for 20 steps/m);
      expect(r.stderr).toMatch(/^done: test accuracy [01]\.\d+ .*chance 0\.500/m);
      expect(r.stderr).toContain(`logs: ${logdir} `);
      expect(r.stderr).toMatch(/^next:\n  tensorboard --logdir runs/m);
      const rows = readFileSync(join(logdir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; tag: string });
      expect(rows.filter((x) => x.tag === 'Accuracy/test').map((x) => x.step)).toEqual([0, 10, 20]);
    } finally {
      rmSync(logdir, { recursive: true, force: true });
    }
  });

  it('rejects a bad flag value in one sentence', () => {
    const r = cli(['demo', '--steps', 'many']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('shadertrain: --steps must be an integer from 1 up, not "many"');
  });
});
