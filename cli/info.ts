// `shadertrain info`: the adapter in use and its limits.
import { parseArgs } from 'node:util';
import { Gpu } from '../src/gpu/context.ts';
import { adapterLine, limitsLines } from '../src/gpu/adapter-report.ts';
import { GPU_HELP, GPU_OPTIONS, gpuOptions } from './gpu-options.ts';
import { examplesHelp } from './help.ts';

export const INFO_HELP = `usage: shadertrain info [--json] [GPU options]
Prints the WebGPU adapter shadertrain would use and its limits.

${GPU_HELP}${examplesHelp('info', [
  { args: '', does: 'the adapter, whether it is software, and its limits' },
  { args: '--json', does: 'the same as JSON' },
  { args: '--backend vulkan --power-preference high-performance', does: "the adapter that Dawn's Vulkan backend gives a high-performance request" },
])}`;

export async function info(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...GPU_OPTIONS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(INFO_HELP);
    return 0;
  }
  const gpu = await Gpu.create(gpuOptions(values));
  try {
    if (values.json) {
      console.log(JSON.stringify({ adapter: gpu.report, note: gpu.note || undefined }, null, 2));
    } else {
      console.log(`adapter: ${adapterLine(gpu.report)}`);
      if (gpu.note) console.log(`note: ${gpu.note}`);
      console.log(`timestamp queries: ${gpu.report.timestamps ? 'yes' : 'no'}`);
      for (const line of limitsLines(gpu.report)) console.log(`  ${line}`);
    }
    return 0;
  } finally {
    gpu.destroy();
  }
}
