// TensorBoard event files, bytes only (files are tensorboard-node.ts's business), so the same
// code can build a downloadable log in a browser.
//
// An event file is a sequence of TFRecords: uint64 LE length, uint32 LE masked CRC32C of those
// 8 bytes, the data, uint32 LE masked CRC32C of the data. Each record's data is one serialized
// tensorflow.Event protobuf. Only the fields PyTorch's SummaryWriter.add_scalar writes are
// encoded, by hand (proto3, fields in number order, defaults omitted as protobuf does):
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; oneof value { float simple_value = 2; ... } }
import CRC32C from 'crc-32/crc32c.js';

/** CRC32C (Castagnoli) as an unsigned 32-bit integer. */
export function crc32c(bytes: Uint8Array): number {
  return CRC32C.buf(bytes) >>> 0;
}

/** The masked CRC32C TFRecord stores: a CRC of data that holds CRCs is not itself a weak CRC. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord around `data`. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** A growable byte buffer with the few protobuf wire encodings the Event (and hparams.ts) need. */
export class ProtoWriter {
  private bytes = new Uint8Array(64);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Unsigned varint of a 64-bit value: 7 bits a byte, low bits first. */
  varint(v: bigint): void {
    this.reserve(10);
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.bytes[this.length++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.bytes[this.length++] = Number(x);
  }

  key(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  double(field: number, v: number): void {
    this.key(field, 1);
    this.reserve(8);
    new DataView(this.bytes.buffer).setFloat64(this.length, v, true);
    this.length += 8;
  }

  float(field: number, v: number): void {
    this.key(field, 5);
    this.reserve(4);
    new DataView(this.bytes.buffer).setFloat32(this.length, v, true);
    this.length += 4;
  }

  /** int64 as protobuf encodes it: a negative value is its two's complement, 10 bytes. */
  int64(field: number, v: number): void {
    this.key(field, 0);
    this.varint(BigInt(v));
  }

  lengthDelimited(field: number, data: Uint8Array): void {
    this.key(field, 2);
    this.varint(BigInt(data.length));
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  string(field: number, s: string): void {
    this.lengthDelimited(field, new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

export const FILE_VERSION = 'brain.Event:2';

function checkWallTime(wallTime: number): void {
  if (!Number.isFinite(wallTime)) throw new RangeError(`TensorBoard event: wall time must be a finite number of seconds, got ${wallTime}`);
}

/** The Event that opens every event file: wall_time and file_version "brain.Event:2". */
export function fileVersionEvent(wallTime: number): Uint8Array {
  checkWallTime(wallTime);
  const w = new ProtoWriter();
  if (wallTime !== 0) w.double(1, wallTime);
  w.string(3, FILE_VERSION);
  return w.finish();
}

/**
 * The Event SummaryWriter.add_scalar(tag, value, step, walltime) writes. The value is stored as
 * float32 (simple_value), NaN and ±Infinity included, as TensorBoard shows them. `step` must be
 * a safe integer; negative steps are encoded as protobuf encodes int64 (10-byte varint).
 */
export function scalarEvent(tag: string, value: number, step: number, wallTime: number): Uint8Array {
  checkWallTime(wallTime);
  if (!Number.isSafeInteger(step)) throw new RangeError(`TensorBoard scalar "${tag}": step must be an integer, got ${step}`);
  if (typeof value !== 'number') throw new TypeError(`TensorBoard scalar "${tag}": value must be a number, got ${typeof value}`);
  const v = new ProtoWriter();
  v.string(1, tag);
  // simple_value sits in a oneof, so it is written even when it is 0.
  v.float(2, value);
  const summary = new ProtoWriter();
  summary.lengthDelimited(1, v.finish());
  const e = new ProtoWriter();
  if (wallTime !== 0) e.double(1, wallTime);
  if (step !== 0) e.int64(2, step);
  e.lengthDelimited(5, summary.finish());
  return e.finish();
}

/**
 * An Event whose Summary holds one already encoded Summary.Value (a plugin's summary, as
 * hparams.ts makes): `Event { wall_time = 1; step = 2; summary = 5 { value = 1 } }`.
 */
export function summaryEvent(value: Uint8Array, step: number, wallTime: number): Uint8Array {
  checkWallTime(wallTime);
  if (!Number.isSafeInteger(step)) throw new RangeError(`TensorBoard summary: step must be an integer, got ${step}`);
  const summary = new ProtoWriter();
  summary.lengthDelimited(1, value);
  const e = new ProtoWriter();
  if (wallTime !== 0) e.double(1, wallTime);
  if (step !== 0) e.int64(2, step);
  e.lengthDelimited(5, summary.finish());
  return e.finish();
}

/** Seconds since the epoch, as Python's time.time() gives SummaryWriter. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/**
 * The bytes to append to one event file, record by record: the file_version record comes
 * first, with the first scalar, so an empty log never gets a file.
 */
export class EventFileEncoder {
  private started = false;

  constructor(private readonly clock: () => number = nowSeconds) {}

  /** Whether the file_version record has been produced. */
  get hasStarted(): boolean {
    return this.started;
  }

  /** The file_version record, if it has not been produced yet (else no bytes). */
  header(wallTime = this.clock()): Uint8Array {
    if (this.started) return new Uint8Array(0);
    this.started = true;
    return frameRecord(fileVersionEvent(wallTime));
  }

  /** One scalar's record, preceded by the file_version record in a new file. */
  scalar(tag: string, value: number, step: number, wallTime = this.clock()): Uint8Array {
    const record = frameRecord(scalarEvent(tag, value, step, wallTime));
    if (this.started) return record;
    return concatBytes([this.header(wallTime), record]);
  }

  /** One Event holding an encoded Summary.Value, preceded by the file_version record in a new file. */
  summary(value: Uint8Array, step: number, wallTime = this.clock()): Uint8Array {
    const record = frameRecord(summaryEvent(value, step, wallTime));
    if (this.started) return record;
    return concatBytes([this.header(wallTime), record]);
  }

  /** Several scalars at one step, one Event each, as add_scalar called per tag would write. */
  scalars(step: number, values: Record<string, number>, wallTime = this.clock()): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const [tag, value] of Object.entries(values)) parts.push(this.scalar(tag, value, step, wallTime));
    return concatBytes(parts);
  }
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
