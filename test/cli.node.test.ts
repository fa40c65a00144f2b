// The runtime as a user meets it in Node: finding SwiftShader without VK_ICD_FILENAMES,
// one clear error without WebGPU, and a process that exits by itself.
import { execFileSync, spawnSync } from 'node:child_process';
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

describe('shadertrain smoke', () => {
  it('prints the adapter and a falling loss', () => {
    const r = cli(['smoke', '--steps', '100']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^adapter: /m);
    const losses = [...r.stdout.matchAll(/^step +\d+ +loss (\S+)$/gm)].map((m) => Number(m[1]));
    expect(losses.length).toBeGreaterThanOrEqual(2);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 2);
  });

  it('rejects a bad flag value in one sentence', () => {
    const r = cli(['smoke', '--steps', 'many']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('shadertrain: --steps must be an integer >= 1, not "many"');
  });
});
