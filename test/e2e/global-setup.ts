// Builds what the end-to-end tests use: the page (dist/web) and the CLI (dist/cli.js).
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  for (const args of [['scripts/build-web.mjs'], ['scripts/build.mjs', 'cli']]) {
    execFileSync(process.execPath, args, { stdio: 'inherit' });
  }
}
