// Dawn warns once per instance about each Vulkan driver it rejects (Mesa's lavapipe here:
// `Vulkan shaderUniform*ArrayDynamicIndexing required`), straight to stderr. The Node platform
// keeps one instance per set of flags, so a second device in the same process (one recreated
// after a loss) does not print the warning again in the middle of a run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ICD_DIR = '/usr/share/vulkan/icd.d';
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

it('prints each of Dawn\'s adapter warnings at most once for two devices', () => {
  // Every driver the loader would list, with SwiftShader last: the first request then finds an
  // adapter in that instance (a GPU machine's case), and the drivers Dawn rejects stay in it.
  const icds = [...(existsSync(ICD_DIR) ? readdirSync(ICD_DIR).map((f) => join(ICD_DIR, f)) : []), ...(existsSync(SWIFTSHADER) ? [SWIFTSHADER] : [])];
  const env = { ...process.env, ...(icds.length ? { VK_ICD_FILENAMES: icds.join(':') } : {}) };
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/two-devices.ts'], { env, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/device 1 on .*\ndevice 2 on /);
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('Warning: '));
  expect(warnings, r.stderr).toEqual([...new Set(warnings)]);
});
