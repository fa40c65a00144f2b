// A sweep handed to a cluster's own job engine: each task runs `shadertrain sweep SPEC --index I`
// for its index. A Kubernetes Indexed Job (batch/v1) or a Slurm job array; we schedule nothing
// ourselves. Browser-safe: text only, the CLI prints it.
import { stringify } from 'yaml';

export interface EmitOptions {
  /** The spec's path as the task sees it (relative to its working directory). */
  spec: string;
  /** Number of configurations. */
  count: number;
  /** Tasks at once. */
  parallelism: number;
  /** The sweep's logdir as the task sees it. */
  logdir: string;
  /** Flags after `--index I` (data, overrides, adapter). */
  args: string[];
  /** A name for the job (letters, digits, dashes). */
  name: string;
}

export interface K8sOptions extends EmitOptions {
  image: string;
  /** The PersistentVolumeClaim holding the logdir. */
  claim: string;
  /** Where the volume is mounted in the container. */
  mountPath: string;
}

/** A DNS-1123 label: what Kubernetes accepts as a Job's name. */
export function jobName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 52) // the Job controller appends a suffix to name its pods
    .replace(/-+$/, '');
  return s || 'shadertrain-sweep';
}

export function k8sJob(o: K8sOptions): Record<string, unknown> {
  const command = ['shadertrain', 'sweep', o.spec, '--index', '$(JOB_COMPLETION_INDEX)', '--logdir', o.logdir, ...o.args];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(o.name), labels: { app: 'shadertrain-sweep' } },
    spec: {
      completionMode: 'Indexed',
      completions: o.count,
      parallelism: Math.min(o.parallelism, o.count),
      // A failed configuration is retried (it resumes from its checkpoint) without failing the rest.
      backoffLimit: o.count * 2,
      template: {
        metadata: { labels: { app: 'shadertrain-sweep' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'sweep',
              image: o.image,
              // Kubernetes expands $(JOB_COMPLETION_INDEX), which it sets in every pod of an Indexed Job.
              command,
              volumeMounts: [{ name: 'runs', mountPath: o.mountPath }],
            },
          ],
          volumes: [{ name: 'runs', persistentVolumeClaim: { claimName: o.claim } }],
        },
      },
    },
  };
}

export function k8sYaml(o: K8sOptions): string {
  return `# shadertrain sweep ${o.spec}: ${o.count} configurations, one pod each (kubectl apply -f this file)\n${stringify(k8sJob(o))}`;
}

/** Quotes a word for a POSIX shell, unless it is plainly safe. */
export function shellQuote(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}

export function slurmScript(o: EmitOptions): string {
  const last = o.count - 1;
  const args = ['shadertrain', 'sweep', o.spec, '--index', '"$SLURM_ARRAY_TASK_ID"', '--logdir', o.logdir, ...o.args].map((w) => (w.startsWith('"$') ? w : shellQuote(w)));
  return [
    '#!/bin/bash',
    `# shadertrain sweep ${o.spec}: ${o.count} configurations, one array task each (sbatch this file)`,
    `#SBATCH --job-name=${jobName(o.name)}`,
    `#SBATCH --array=0-${last}%${Math.min(o.parallelism, o.count)}`,
    `#SBATCH --output=${o.logdir}/slurm-%A_%a.out`,
    '#SBATCH --ntasks=1',
    'set -euo pipefail',
    args.join(' '),
    '',
  ].join('\n');
}
