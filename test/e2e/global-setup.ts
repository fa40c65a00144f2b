// Builds what the end-to-end tests use: the page (dist/web), the CLI (dist/cli.js) and the bench
// (dist/bench.js, whose report reads the page's bench download).
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  for (const args of [['scripts/build-web.mjs'], ['scripts/build.mjs', 'cli', 'bench']]) {
    execFileSync(process.execPath, args, { stdio: 'inherit' });
  }
}
