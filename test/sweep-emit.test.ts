// The files a sweep hands to a cluster: a Kubernetes batch/v1 Indexed Job and a Slurm array
// script, each running `shadertrain sweep SPEC --index I` for every index.
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { jobName, k8sYaml, shellQuote, slurmScript } from '../src/sweep/emit.ts';

const BASE = { spec: 'sweeps/synthetic.yaml', count: 12, parallelism: 4, logdir: '/work/runs/sweep-synthetic', args: ['--epochs', '5'], name: 'shadertrain-synthetic' };

// Required fields, from the Kubernetes API reference (batch/v1 Job, core/v1 PodSpec): a JobSpec
// requires `template`; a PodSpec `containers`; a Container `name`; a Volume `name`; a VolumeMount
// `name` and `mountPath`; a PersistentVolumeClaimVolumeSource `claimName`. A manifest for
// `kubectl apply` also needs apiVersion, kind and metadata.name.
const REQUIRED: [string, string[]][] = [
  ['', ['apiVersion', 'kind', 'metadata', 'spec']],
  ['metadata', ['name']],
  ['spec', ['template']],
  ['spec.template.spec', ['containers']],
  ['spec.template.spec.containers[]', ['name']],
  ['spec.template.spec.containers[].volumeMounts[]', ['name', 'mountPath']],
  ['spec.template.spec.volumes[]', ['name']],
  ['spec.template.spec.volumes[].persistentVolumeClaim', ['claimName']],
];

/** The fields this test reads, as the parsed manifest should have them. */
interface Job {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    template: {
      spec: {
        restartPolicy: string;
        containers: { image: string; command: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
        volumes: { name: string; persistentVolumeClaim: { claimName: string } }[];
      };
    };
  };
}

/** The objects at a path like `a.b[].c` ([] spreads a list). */
function at(root: unknown, path: string): unknown[] {
  let xs: unknown[] = [root];
  for (const part of path ? path.split('.') : []) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    xs = xs.flatMap((x) => {
      const v = (x as Record<string, unknown>)[key];
      expect(v, `${path}: ${key}`).toBeDefined();
      return list ? (v as unknown[]) : [v];
    });
  }
  return xs;
}

it('writes a batch/v1 Indexed Job with every required field, one completion per configuration', () => {
  const text = k8sYaml({ ...BASE, image: 'registry.example/shadertrain:0.1', claim: 'runs', mountPath: '/work/runs/sweep-synthetic' });
  const job = parse(text) as Job;
  for (const [path, fields] of REQUIRED) {
    const objects = at(job, path);
    expect(objects.length, path).toBeGreaterThan(0);
    for (const o of objects) for (const f of fields) expect(o, `${path}.${f}`).toHaveProperty(f);
  }
  expect(job.apiVersion).toBe('batch/v1');
  expect(job.kind).toBe('Job');
  expect(job.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  expect(job.spec.completionMode).toBe('Indexed');
  expect(job.spec.completions).toBe(12);
  expect(job.spec.parallelism).toBe(4);
  // A Job's pods may only restart Never or OnFailure.
  expect(['Never', 'OnFailure']).toContain(job.spec.template.spec.restartPolicy);
  const [container] = job.spec.template.spec.containers;
  expect(container.image).toBe('registry.example/shadertrain:0.1');
  expect(container.command).toEqual(['shadertrain', 'sweep', 'sweeps/synthetic.yaml', '--index', '$(JOB_COMPLETION_INDEX)', '--logdir', '/work/runs/sweep-synthetic', '--epochs', '5']);
  // The logdir is on the volume.
  const mount = container.volumeMounts[0];
  expect(mount.mountPath).toBe('/work/runs/sweep-synthetic');
  const volume = job.spec.template.spec.volumes.find((v) => v.name === mount.name);
  expect(volume?.persistentVolumeClaim.claimName).toBe('runs');
});

it('never asks for more pods at once than there are configurations', () => {
  const job = parse(k8sYaml({ ...BASE, count: 3, parallelism: 8, image: 'i', claim: 'c', mountPath: '/m' })) as { spec: { parallelism: number; completions: number } };
  expect(job.spec).toMatchObject({ completions: 3, parallelism: 3 });
});

it('writes a Slurm array script over indices 0 … n-1 with $SLURM_ARRAY_TASK_ID', () => {
  const s = slurmScript({ ...BASE, args: ['--data', 'my data/u.data'] });
  const lines = s.split('\n');
  expect(lines[0]).toBe('#!/bin/bash');
  expect(lines).toContain('#SBATCH --array=0-11%4');
  expect(lines).toContain('#SBATCH --job-name=shadertrain-synthetic');
  expect(lines).toContain('#SBATCH --output=/work/runs/sweep-synthetic/slurm-%A_%a.out');
  expect(lines).toContain(`shadertrain sweep sweeps/synthetic.yaml --index "$SLURM_ARRAY_TASK_ID" --logdir /work/runs/sweep-synthetic --data 'my data/u.data'`);
  // Every #SBATCH line comes before the first command, as sbatch reads them.
  const firstCommand = lines.findIndex((l) => l && !l.startsWith('#'));
  expect(lines.slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false);
});

it('makes names Kubernetes accepts and quotes words for the shell', () => {
  expect(jobName('shadertrain-My_Sweep.v2')).toBe('shadertrain-my-sweep-v2');
  expect(jobName('___')).toBe('shadertrain-sweep');
  expect(jobName('x'.repeat(80))).toHaveLength(52);
  expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  expect(shellQuote('runs/a=1,b')).toBe('runs/a=1,b');
});
