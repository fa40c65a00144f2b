// The `shadertrain` command: a command per experiment in the registry, and the tools.
import { EXPERIMENTS } from '../src/experiments/registry.ts';
import { describeError } from './errors.ts';
import { info } from './info.ts';
import { runExperiment } from './run-experiment.ts';
import { smoke } from './smoke.ts';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; summary: string }> = {
  ...Object.fromEntries(EXPERIMENTS.map((ex) => [ex.name, { run: (args: string[]) => runExperiment(ex, args), summary: ex.title }])),
  info: { run: info, summary: 'show the WebGPU adapter and its limits' },
  smoke: { run: smoke, summary: 'train a tiny model on the GPU and print the loss' },
};
function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: shadertrain COMMAND [options]   (shadertrain COMMAND --help for its options)\n\ncommands:\n${lines.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`shadertrain: unknown command "${name}".\n${usage()}`);
    return 2;
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const { message, expected } = describeError(err);
    console.error(`shadertrain: ${message}`);
    if (!expected && process.env.SHADERTRAIN_DEBUG && err instanceof Error) console.error(err.stack);
    process.exit(1);
  },
);
