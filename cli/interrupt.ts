// Ctrl-C during training: the first stops the run where a checkpoint resumes it exactly (the next
// step of a step-counted run, the current epoch's evaluation of an epoch-counted one), writes the
// checkpoint and says how to continue; a second stops at once. Either way the exit status is 130,
// as for any command stopped by SIGINT.
import type { Unit } from '../src/experiments/types.ts';

export class Interrupt {
  requested = false;
  /** An epoch-counted run's epoch whose evaluation ends it: set once the run's trainer is made. */
  stopsAfter?: () => number;
  private readonly onSignal = (): void => {
    if (this.requested) {
      console.error(`\nstopped at once. ${this.whereNow()}`);
      // Killed by the signal itself, as without a handler: process.exit here runs the GPU
      // library's teardown under work in flight, which can crash (exit 139 instead of 130).
      this.dispose();
      process.kill(process.pid, 'SIGINT');
      return;
    }
    this.requested = true;
    console.error(`\n${this.stopping()}; press Ctrl-C again to stop at once`);
  };

  /** `whereNow` says what a user keeps if the run stops at once; `saving`, that a checkpoint is written where it stops. */
  constructor(
    private readonly whereNow: () => string,
    private readonly unit: Unit,
    private readonly saving: boolean,
  ) {
    process.on('SIGINT', this.onSignal);
  }

  /** Where the run will stop. */
  private stopping(): string {
    if (this.unit === 'step') return `stopping at the next step${this.saving ? ', where its checkpoint is written' : ''}`;
    const at = this.stopsAfter ? `${this.unit} ${this.stopsAfter()}'s` : `this ${this.unit}'s`;
    return `stopping after ${at} evaluation${this.saving ? ' and its checkpoint' : ''}`;
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
