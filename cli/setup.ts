// `shadertrain setup` (run by `npm start` and `npm test` before anything else): makes sure this
// machine has what shadertrain runs on. Without a WebGPU adapter (a Linux server or container
// with no GPU) it installs SwiftShader, the CPU Vulkan that Debian's chromium package ships, with
// the Vulkan loader libvulkan1; --browser also wants a Chromium (the browser tests run in it).
// With a GPU nothing is installed. Installing needs root and apt-get; otherwise it prints the
// command and fails. SHADERTRAIN_NO_INSTALL=1 turns installing off.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { requestPlatformAdapter } from '#gpu-platform';
import { chromiumPath } from '../scripts/chromium.ts';
import { gpuOptionsFromEnv } from '../src/gpu/context.ts';
import { NoWebGPUError } from '../src/gpu/platform.ts';
import { examplesHelp } from './help.ts';

const PACKAGES = ['chromium', 'libvulkan1'];

const HELP = `usage: shadertrain setup [--browser]
Checks for a WebGPU adapter. Where there is none (no GPU, as on most servers and in CI), installs
SwiftShader, a CPU Vulkan, from Debian's packages: apt-get install -y ${PACKAGES.join(' ')}
(as root; otherwise it prints that command and exits with 1). With a GPU nothing is installed.
SHADERTRAIN_NO_INSTALL=1 turns installing off. \`npm start\` and \`npm test\` run it first.

  --browser    also wants a Chromium, which the browser tests drive (chromium, same command)${examplesHelp('setup', [
  { args: '', does: 'what `npm start` runs first' },
  { args: '--browser', does: 'what `npm test` runs first' },
])}`;

/** Why the adapter is missing, or null when there is one. */
async function missingAdapter(): Promise<string | null> {
  try {
    await requestPlatformAdapter(gpuOptionsFromEnv());
    return null;
  } catch (err) {
    if (err instanceof NoWebGPUError) return err.message;
    throw err;
  }
}

export async function setup(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { browser: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  // Read before probing: the probe sets it itself when it tries SwiftShader (platform-node.ts).
  const icd = process.env.VK_ICD_FILENAMES;
  const adapterProblem = await missingAdapter();
  const needsBrowser = values.browser === true && chromiumPath() === undefined;
  if (!adapterProblem && !needsBrowser) return 0;
  const missing = adapterProblem ? 'there is no WebGPU adapter on this machine (no GPU driver)' : 'the browser tests run in Chromium and there is none on this machine';
  const what = adapterProblem ? "SwiftShader, the CPU Vulkan in Debian's chromium package, and the Vulkan loader libvulkan1" : "Debian's chromium";
  const packages = adapterProblem ? PACKAGES : ['chromium'];
  const root = process.getuid?.() === 0;
  const cannot = process.env.SHADERTRAIN_NO_INSTALL === '1' ? 'SHADERTRAIN_NO_INSTALL=1 is set' : !root ? 'this needs root' : !existsSync('/usr/bin/apt-get') ? 'there is no apt-get here' : '';
  if (cannot) {
    const sudo = root ? '' : 'sudo ';
    console.error(`shadertrain setup: ${missing}; not installing ${what} (${cannot}). Install it with:\n  ${sudo}apt-get update && ${sudo}apt-get install -y ${packages.join(' ')}`);
    return 1;
  }
  if (adapterProblem && icd) {
    // An ICD chosen by hand is used as it is (platform-node.ts): installing would change nothing.
    console.error(`shadertrain setup: VK_ICD_FILENAMES=${icd} gives no WebGPU adapter; unset it, or point it at a Vulkan ICD that exists.`);
    return 1;
  }
  console.error(`shadertrain setup: ${missing}, so it installs ${what} (SHADERTRAIN_NO_INSTALL=1 turns this off):\n  apt-get update && apt-get install -y ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const step of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
    const r = spawnSync('apt-get', step, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`shadertrain setup: \`apt-get ${step.join(' ')}\` failed (exit ${r.status ?? r.signal}); install ${packages.join(' ')} by hand.`);
      return 1;
    }
  }
  // A fresh process sees the new Vulkan loader and ICD: it reports the adapter found.
  const fresh = { ...process.env };
  delete fresh.VK_ICD_FILENAMES; // the probe's, not the user's (a user's one returned above)
  const r = spawnSync(process.execPath, [process.argv[1], 'info'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: fresh });
  if (r.status !== 0) return 1;
  console.error(`shadertrain setup: installed; ${r.stdout.split('\n')[0]}`);
  return 0;
}
