// RunLog (TensorBoard + JSONL in one logdir, nothing left behind on abort) and the CLI's
// progress output (live bar on a terminal, plain lines elsewhere, nothing when silent).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { Progress, formatField, formatSpan } from '../cli/progress.ts';
import { JsonlWriter, scalarLine } from '../src/log/jsonl-node.ts';
import { RunLog } from '../src/log/run-log-node.ts';
import { frameRecord, fileVersionEvent, scalarEvent } from '../src/log/tensorboard.ts';

const root = mkdtempSync(join(tmpdir(), 'shadertrain-runlog-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readLines = (path: string): unknown[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('JSONL', () => {
  it('writes one object per scalar with step, tag, value and wall_time, and null for non-finite values', () => {
    expect(scalarLine('test/mse', 0.93, 3, 1700000000.25)).toBe('{"step":3,"tag":"test/mse","value":0.93,"wall_time":1700000000.25}\n');
    expect(scalarLine('loss', NaN, 1, 1)).toBe('{"step":1,"tag":"loss","value":null,"wall_time":1}\n');
    expect(scalarLine('loss', -Infinity, 1, 1)).toContain('"value":null');
    expect(() => scalarLine('loss', 1, 1.5, 1)).toThrow(/step must be an integer/);
  });

  it('appends to an existing file and discard takes back exactly its own lines', () => {
    const dir = join(root, 'jsonl');
    const first = new JsonlWriter(dir, { clock: () => 1 });
    first.scalar('a', 1, 1);
    first.close();
    const before = readFileSync(first.path, 'utf8');
    const resumed = new JsonlWriter(dir, { clock: () => 2 });
    resumed.scalars(2, { a: 2, b: 3 });
    expect(readLines(resumed.path).length).toBe(3);
    resumed.discard();
    expect(readFileSync(first.path, 'utf8')).toBe(before);
  });
});

describe('RunLog', () => {
  it('creates nothing until the first scalar, then writes both files with the same values', () => {
    const logdir = join(root, 'deep', 'runs', 'one');
    let t = 1700000000;
    const log = new RunLog(logdir, { clock: () => (t += 0.5) });
    expect(existsSync(join(root, 'deep'))).toBe(false);
    expect(log.files).toEqual([]);
    expect(() => log.scalars(1.5, { a: 1 })).toThrow(/step must be an integer/);
    expect(() => log.scalar('', 1, 1)).toThrow(/non-empty tag/);
    expect(existsSync(join(root, 'deep'))).toBe(false);

    log.scalar('train/loss', 0.75, 1);
    log.scalars(2, { 'train/loss': 0.5, 'test/mrr': 0.25 });
    log.flush();
    log.close();
    expect(() => log.scalar('x', 1, 3)).toThrow(/closed/);

    const names = readdirSync(logdir).sort();
    expect(names.length).toBe(2);
    expect(names[0]).toMatch(/^events\.out\.tfevents\.1700000000\./);
    expect(names[1]).toBe('metrics.jsonl');
    expect(log.files.map((f) => f.slice(logdir.length + 1)).sort()).toEqual(names);
    expect(readLines(join(logdir, 'metrics.jsonl'))).toEqual([
      { step: 1, tag: 'train/loss', value: 0.75, wall_time: 1700000000.5 },
      { step: 2, tag: 'train/loss', value: 0.5, wall_time: 1700000001 },
      { step: 2, tag: 'test/mrr', value: 0.25, wall_time: 1700000001 },
    ]);
    const events = [
      frameRecord(fileVersionEvent(1700000000.5)),
      frameRecord(scalarEvent('train/loss', 0.75, 1, 1700000000.5)),
      frameRecord(scalarEvent('train/loss', 0.5, 2, 1700000001)),
      frameRecord(scalarEvent('test/mrr', 0.25, 2, 1700000001)),
    ].flatMap((r) => Array.from(r));
    expect(Array.from(readFileSync(join(logdir, names[0])))).toEqual(events);
  });

  it('abort removes its files and the directories it created, and nothing else', () => {
    const parent = join(root, 'abort');
    mkdirSync(parent);
    const log = new RunLog(join(parent, 'x', 'y'));
    log.scalar('a', 1, 1);
    expect(readdirSync(join(parent, 'x', 'y')).length).toBe(2);
    log.abort();
    expect(existsSync(join(parent, 'x'))).toBe(false);
    expect(existsSync(parent)).toBe(true);
    expect(() => log.scalar('a', 1, 2)).toThrow(/closed/);

    // A logdir that existed, with another run's files in it: those stay, and so does the dir.
    const shared = join(root, 'shared');
    mkdirSync(shared);
    writeFileSync(join(shared, 'events.out.tfevents.1.other.1.0'), 'x');
    writeFileSync(join(shared, 'metrics.jsonl'), '{"step":1,"tag":"a","value":1,"wall_time":1}\n');
    const second = new RunLog(shared);
    second.scalars(5, { a: 2 });
    expect(readdirSync(shared).length).toBe(3);
    second.abort();
    expect(readdirSync(shared).sort()).toEqual(['events.out.tfevents.1.other.1.0', 'metrics.jsonl']);
    expect(readFileSync(join(shared, 'metrics.jsonl'), 'utf8')).toBe('{"step":1,"tag":"a","value":1,"wall_time":1}\n');

    // A created dir that someone else wrote into while the run went on stays.
    const busy = join(root, 'busy', 'run');
    const third = new RunLog(busy);
    third.scalar('a', 1, 1);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    third.abort();
    expect(readdirSync(busy)).toEqual(['notes.txt']);

    // An abort before any scalar is a no-op.
    new RunLog(join(root, 'never')).abort();
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});

/** A stream that keeps what it is given, as a terminal (isTTY) or as a pipe. */
class Capture extends Writable {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 120,
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

describe('Progress', () => {
  it('formats fields and time spans for a status line', () => {
    expect(formatField(0.51234)).toBe('0.512');
    expect(formatField(0.93)).toBe('0.93');
    expect(formatField(12)).toBe('12');
    expect(formatField(1.5e-5)).toBe('1.50e-5');
    expect(formatField(NaN)).toBe('NaN');
    expect(formatSpan(42)).toBe('42s');
    expect(formatSpan(185)).toBe('3m05s');
    expect(formatSpan(3720)).toBe('1h02m');
    expect(formatSpan(NaN)).toBe('--');
  });

  it('prints one plain line per epoch when stderr is not a terminal', () => {
    const out = new Capture(false);
    let ms = 0;
    const p = new Progress({ epochs: 3, stepsPerEpoch: 4, stream: out, now: () => ms });
    for (let e = 0; e < 3; e++) {
      for (let s = 0; s < 4; s++) {
        ms += 500;
        p.step({ loss: 1 / (e * 4 + s + 1), mse: 0.93 });
      }
      p.endEpoch(e === 1 ? 'test mrr 0.41' : undefined);
    }
    p.stop();
    expect(out.text).not.toContain('\x1b');
    expect(out.text.split('\n')).toEqual([
      // 4 steps of 0.5 s done, 8 to go
      'epoch 1/3 loss 0.25 mse 0.93 (2s, ETA 4s)',
      'epoch 2/3 test mrr 0.41 (2s, ETA 2s)',
      'epoch 3/3 loss 0.0833 mse 0.93 (2s, ETA 0s)',
      '',
    ]);
  });

  it('draws a live bar on a terminal, with the run ETA, and leaves the epoch lines', () => {
    const out = new Capture(true);
    let ms = 0;
    const p = new Progress({ epochs: 200, stepsPerEpoch: 10, stream: out, now: () => ms, label: 'epoch' });
    ms += 1000;
    p.step({ loss: 0.512, mse: 0.93 });
    expect(out.text).toContain('\x1b[');
    // 1 step in 1 s, 1999 steps to go
    expect(out.text).toMatch(/epoch 1\/200 \[[█░]+\] 1\/10 \| loss 0\.512 mse 0\.93 \| ETA 33m19s/);
    for (let s = 1; s < 10; s++) p.step({ loss: 0.5 });
    p.log('checkpoint saved');
    p.endEpoch('mrr 0.3');
    p.step();
    p.stop();
    p.stop();
    expect(out.text).toContain('checkpoint saved\n');
    expect(out.text).toContain('epoch 1/200 mrr 0.3 (1s, ETA 3m19s)\n');
    expect(out.text).toMatch(/epoch 2\/200 \[/);
  });

  it('fits the terminal: the bar narrows, whole fields are left out, the ETA last', () => {
    // Each live line, without cli-progress's escape codes: what a terminal of that width shows.
    const lines = (text: string): string[] => text.split(/\x1b\[[0-9;]*[A-Za-z]|\r|\n/).filter((l) => l.includes('['));
    for (const columns of [120, 80, 70, 44]) {
      const out = new Capture(true, columns);
      const p = new Progress({ epochs: 200, stepsPerEpoch: 400, first: 5, stream: out, now: () => 0 });
      p.show({ loss: 0.51234, 'test MRR': 0.0573, 'test MSE': 2.517 }, 'epoch 5');
      p.step();
      p.stop();
      const drawn = lines(out.text);
      expect(drawn.length).toBeGreaterThan(0);
      for (const l of drawn) {
        expect(l.length, l).toBeLessThan(columns);
        expect(l).toMatch(/^epoch 6\/205 \[/);
        // A field is shown whole or not at all.
        expect(l).not.toMatch(/(loss|MRR|MSE) ?[0-9.]*$/);
      }
      if (columns === 120) expect(drawn[0]).toMatch(/\| epoch 5: loss 0\.512 test MRR 0\.0573 test MSE 2\.52 \| ETA 0s$/);
      if (columns === 70) expect(drawn[0]).toMatch(/\[[█░]{8,}\] 1\/400 \| epoch 5: loss 0\.512 \| ETA 0s$/);
    }
  });

  it('says nothing when silent, and counts labels and rounds generically', () => {
    const out = new Capture(true);
    const p = new Progress({ epochs: 2, stepsPerEpoch: 100, stream: out, silent: true });
    p.step({ loss: 1 }, 100);
    p.endEpoch('acc 0.9');
    p.stop();
    expect(out.text).toBe('');
    const plain = new Capture(false);
    const few = new Progress({ epochs: 50, stepsPerEpoch: 100, label: 'eval', stream: plain, now: () => 0 });
    few.step({ loss: 2 }, 100);
    few.endEpoch('5-way 1-shot acc 0.41');
    few.stop();
    expect(plain.text).toMatch(/^eval 1\/50 5-way 1-shot acc 0\.41 \(0s, ETA 0s\)\n$/);
    expect(() => new Progress({ epochs: 0, stepsPerEpoch: 1 })).toThrow(/epochs must be a positive integer/);
  });
});
