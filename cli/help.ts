// The examples section that ends every command's --help.

/** "examples:" and one `shadertrain COMMAND ARGS` line per example (COMMAND may be empty), each with what it does. */
export function examplesHelp(command: string, examples: readonly { args: string; does: string }[]): string {
  if (examples.length === 0) return '';
  const lines = examples.map((e) => `  ${['shadertrain', command, e.args].filter((w) => w).join(' ')}\n      ${e.does}`);
  return `\n\nexamples:\n${lines.join('\n')}`;
}
