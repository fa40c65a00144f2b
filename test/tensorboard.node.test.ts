// TensorBoardWriter on disk: the file name SummaryWriter uses, nothing created before the first
// scalar, and file bytes that are exactly the records tensorboard.test.ts checks against the spec.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TensorBoardWriter, eventFileName } from '../src/log/tensorboard-node.ts';
import { fileVersionEvent, frameRecord, scalarEvent } from '../src/log/tensorboard.ts';

const root = mkdtempSync(join(tmpdir(), 'shadertrain-tb-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const concat = (parts: Uint8Array[]): number[] => parts.flatMap((p) => Array.from(p));

describe('TensorBoardWriter', () => {
  it('names files as SummaryWriter does', () => {
    expect(eventFileName(1700000000.9, 3, 'box', 42)).toBe('events.out.tfevents.1700000000.box.42.3');
    // %010d: seconds are zero-padded to ten digits
    expect(eventFileName(12.5, 0, 'h', 1)).toBe('events.out.tfevents.0000000012.h.1.0');
  });

  it('creates the logdir and file at the first scalar and appends records in order', () => {
    const logdir = join(root, 'runs', 'a');
    let t = 1700000000.5;
    const w = new TensorBoardWriter(logdir, { clock: () => (t += 1) });
    expect(existsSync(logdir)).toBe(false);
    expect(w.path).toBeNull();
    w.scalar('train/loss', 0.5, 1);
    expect(readdirSync(logdir)).toEqual([w.path?.slice(logdir.length + 1)]);
    expect(w.path).toMatch(new RegExp(`/events\\.out\\.tfevents\\.1700000001\\.${hostname().replace(/\./g, '\\.')}\\.${process.pid}\\.\\d+$`));
    w.scalars(2, { 'train/loss': 0.25, 'test/mse': 0.9 });
    w.flush();
    w.close();
    expect(() => w.scalar('x', 1, 3)).toThrow(/closed/);
    const expected = concat([
      frameRecord(fileVersionEvent(1700000001.5)),
      frameRecord(scalarEvent('train/loss', 0.5, 1, 1700000001.5)),
      frameRecord(scalarEvent('train/loss', 0.25, 2, 1700000002.5)),
      frameRecord(scalarEvent('test/mse', 0.9, 2, 1700000002.5)),
    ]);
    expect(Array.from(readFileSync(w.path as string))).toEqual(expected);
  });

  it('gives two writers on one logdir two files, and a writer that never wrote no file', () => {
    const logdir = join(root, 'b');
    const a = new TensorBoardWriter(logdir, { clock: () => 1700000000 });
    const b = new TensorBoardWriter(logdir, { clock: () => 1700000000 });
    const idle = new TensorBoardWriter(join(root, 'idle'));
    a.scalar('x', 1, 1);
    b.scalar('x', 2, 1);
    a.close();
    b.close();
    idle.close();
    expect(a.path).not.toBe(b.path);
    expect(readdirSync(logdir).length).toBe(2);
    expect(existsSync(join(root, 'idle'))).toBe(false);
  });

  it('rejects a bad step before creating anything', () => {
    const logdir = join(root, 'bad');
    const w = new TensorBoardWriter(logdir);
    expect(() => w.scalar('x', 1, 0.5)).toThrow(/step must be an integer/);
    expect(existsSync(logdir)).toBe(false);
    w.discard();
    w.close();
  });

  it('discard removes the file it created', () => {
    const logdir = join(root, 'c');
    const w = new TensorBoardWriter(logdir);
    w.scalar('x', 1, 1);
    const path = w.path as string;
    expect(existsSync(path)).toBe(true);
    w.discard();
    expect(existsSync(path)).toBe(false);
  });
});
