#!/usr/bin/env node
// The `shadertrain` command: a command per experiment in the registry, and the tools.
import pkg from '../package.json' with { type: 'json' };
import { EXPERIMENTS } from '../src/experiments/registry.ts';
import { demo } from './demo.ts';
import { describeError } from './errors.ts';
import { exportCommand } from './export.ts';
import { examplesHelp } from './help.ts';
import { info } from './info.ts';
import { predict } from './predict.ts';
import { runExperiment } from './run-experiment.ts';
import { setup } from './setup.ts';
import { sweep } from './sweep.ts';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; summary: string }> = {
  ...Object.fromEntries(EXPERIMENTS.map((ex) => [ex.name, { run: (args: string[]) => runExperiment(ex, args), summary: ex.title }])),
  demo: { run: demo, summary: 'few-shot Omniglot 2-way 1-shot in about a minute, offline (npm start)' },
  predict: { run: predict, summary: "what a trained model predicts, from its checkpoint (see predict --help)" },
  export: { run: exportCommand, summary: "a checkpoint's weights for PyTorch, without the optimizer's state (see export --help)" },
  info: { run: info, summary: 'show the WebGPU adapter and its limits' },
  sweep: { run: sweep, summary: 'many runs of an experiment from a YAML or JSON spec: here, or as a Kubernetes or Slurm job' },
  setup: { run: setup, summary: 'install SwiftShader (apt-get) where there is no WebGPU adapter' },
};
function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  const examples = examplesHelp('', [
    { args: 'demo', does: 'a real training run in about a minute, on data that ships with shadertrain' },
    { args: 'fewshot --help', does: "a command's options and examples" },
    { args: 'info', does: 'the WebGPU adapter shadertrain uses' },
    ...EXPERIMENTS.flatMap((ex) => (ex.examples ?? []).slice(0, 1).map((e) => ({ args: `${ex.name} ${e.args}`, does: e.does }))),
  ]);
  return `usage: shadertrain COMMAND [options]   (shadertrain COMMAND --help for its options)\n       shadertrain --version\n\ncommands:\n${lines.join('\n')}${examples}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(pkg.version);
    return 0;
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
