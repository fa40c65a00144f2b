// Ctrl-C during training: the first stops the run after its next evaluation, whose checkpoint is
// then written, and says how to continue; a second stops at once. Either way the exit status is
// 130, as for any command stopped by SIGINT.
export class Interrupt {
  requested = false;
  private readonly onSignal = (): void => {
    if (this.requested) {
      console.error(`\nstopped at once. ${this.whereNow()}`);
      process.exit(130);
    }
    this.requested = true;
    console.error('\nstopping after the next evaluation (and its checkpoint); press Ctrl-C again to stop at once');
  };

  /** `whereNow` says what a user keeps if the run stops at once. */
  constructor(private readonly whereNow: () => string) {
    process.on('SIGINT', this.onSignal);
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
  }
}

/** An argument as a POSIX shell reads it back. */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command that continues a run from `checkpoint`: the same flags, --resume in place of --resume/--overwrite. */
export function resumeCommand(command: string, args: readonly string[], checkpoint: string): string {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--overwrite') continue;
    if (a === '--resume') {
      i++;
      continue;
    }
    if (a.startsWith('--resume=')) continue;
    kept.push(a);
  }
  return ['shadertrain', command, ...kept, '--resume', checkpoint].map(shellWord).join(' ');
}
