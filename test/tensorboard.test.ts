// TensorBoard event bytes against the TFRecord and protobuf specs, written out by hand here
// (never re-encoded with the code under test), then a round trip through an independent reader.
import { describe, expect, it } from 'vitest';
import { EventFileEncoder, crc32c, fileVersionEvent, frameRecord, maskedCrc32c, scalarEvent } from '../src/log/tensorboard.ts';
import { textValue } from '../src/log/text-summary.ts';
import { decodeEvent, decodeTextTensor, readRecords, refCrc32c, refMask } from './support/tensorboard-read.ts';

const hex = (s: string): number[] => (s.replace(/\s+/g, '').match(/../g) ?? []).map((b) => parseInt(b, 16));
const bytesOf = (s: string): number[] => Array.from(new TextEncoder().encode(s));

describe('CRC32C', () => {
  it('gives the standard check value and its TFRecord mask', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32c(check)).toBe(0xe3069283);
    // ((0xe3069283 >>> 15) | (0xe3069283 << 17)) mod 2^32 = 0x0001c60d | 0x25060000 = 0x2507c60d;
    // + 0xa282ead8 = 0xc78ab0e5 (mod 2^32)
    expect(maskedCrc32c(check)).toBe(0xc78ab0e5);
    expect(refCrc32c(check)).toBe(0xe3069283);
    expect(refMask(0xe3069283)).toBe(0xc78ab0e5);
  });

  it('agrees with the bitwise reference on arbitrary bytes', () => {
    const bytes = new Uint8Array(1000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 255;
    for (const n of [0, 1, 3, 8, 63, 1000]) expect(maskedCrc32c(bytes.subarray(0, n))).toBe(refMask(refCrc32c(bytes.subarray(0, n))));
  });
});

describe('Event protobuf', () => {
  it('encodes the file_version event as protobuf does', () => {
    expect(Array.from(fileVersionEvent(1.5))).toEqual([
      ...hex('09'), // field 1 (wall_time), wire type 1 (64-bit)
      ...hex('00 00 00 00 00 00 f8 3f'), // 1.5 as an IEEE double, little-endian (0x3ff8000000000000)
      ...hex('1a 0d'), // field 3 (file_version), wire type 2, 13 bytes
      ...bytesOf('brain.Event:2'),
    ]);
  });

  it('encodes a scalar event as SummaryWriter.add_scalar does', () => {
    expect(Array.from(scalarEvent('loss', 0.5, 3, 1700000000.25))).toEqual([
      ...hex('09'), // Event.wall_time: field 1, 64-bit
      ...hex('00 00 10 40 fc 54 d9 41'), // 1700000000.25 as a double = 0x41d954fc40100000, LE
      ...hex('10 03'), // Event.step: field 2, varint, 3
      ...hex('2a 0d'), // Event.summary: field 5, length-delimited, 13 bytes
      ...hex('0a 0b'), //   Summary.value: field 1, length-delimited, 11 bytes
      ...hex('0a 04'), //     Value.tag: field 1, length-delimited, 4 bytes
      ...bytesOf('loss'),
      ...hex('15'), //     Value.simple_value: field 2, wire type 5 (32-bit)
      ...hex('00 00 00 3f'), //     0.5 as a float = 0x3f000000, LE
    ]);
  });

  it('omits step 0 (proto3 default) but always writes simple_value (a oneof member), even 0', () => {
    expect(Array.from(scalarEvent('a', 0, 0, 1.5))).toEqual([
      ...hex('09 00 00 00 00 00 00 f8 3f'), // wall_time 1.5
      ...hex('2a 0a 0a 08'), // summary (10 bytes) > value (8 bytes)
      ...hex('0a 01'), ...bytesOf('a'), // tag "a"
      ...hex('15 00 00 00 00'), // simple_value 0.0f
    ]);
  });

  it('encodes multi-byte varints and negative steps as int64 does (two\'s complement, 10 bytes)', () => {
    const tail = [...hex('2a 0a 0a 08 0a 01'), ...bytesOf('a'), ...hex('15 00 00 80 3f')]; // tag "a", 1.0f
    // 300 = 0b10_0101100 -> low 7 bits 0x2c with the continuation bit (0xac), then 0x02
    expect(Array.from(scalarEvent('a', 1, 300, 1.5))).toEqual([...hex('09 00 00 00 00 00 00 f8 3f 10 ac 02'), ...tail]);
    // -1 as uint64 is 2^64 - 1: nine bytes of 0x7f with continuation bits, then 0x01
    expect(Array.from(scalarEvent('a', 1, -1, 1.5))).toEqual([...hex('09 00 00 00 00 00 00 f8 3f 10 ff ff ff ff ff ff ff ff ff 01'), ...tail]);
    expect(decodeEvent(scalarEvent('a', 1, -123456789, 1.5)).step).toBe(-123456789n);
    expect(decodeEvent(scalarEvent('a', 1, Number.MAX_SAFE_INTEGER, 1.5)).step).toBe(BigInt(Number.MAX_SAFE_INTEGER));
  });

  it('keeps NaN and infinities as float32 values, and rejects steps that are not integers', () => {
    expect(decodeEvent(scalarEvent('a', NaN, 1, 1)).values[0].simpleValue).toBeNaN();
    expect(decodeEvent(scalarEvent('a', -Infinity, 1, 1)).values[0].simpleValue).toBe(-Infinity);
    expect(() => scalarEvent('a', 1, 1.5, 1)).toThrow(/step must be an integer, got 1\.5/);
    expect(() => scalarEvent('a', 1, NaN, 1)).toThrow(/step must be an integer/);
    expect(() => scalarEvent('a', 1, 2 ** 60, 1)).toThrow(/step must be an integer/);
    expect(() => scalarEvent('a', 1, 1, NaN)).toThrow(/wall time/);
  });

  it('writes UTF-8 tags with their byte length', () => {
    const ev = decodeEvent(scalarEvent('test/μ-loss', 2, 1, 1));
    expect(ev.values).toEqual([{ tag: 'test/μ-loss', simpleValue: 2 }]);
    expect(Array.from(scalarEvent('μ', 2, 1, 1).subarray(9 + 2 + 4, 9 + 2 + 4 + 4))).toEqual([...hex('0a 02'), 0xce, 0xbc]);
  });
});

describe('TFRecord framing', () => {
  it('frames a record as length, masked CRC of the length, data, masked CRC of the data', () => {
    const data = scalarEvent('loss', 0.5, 3, 1.5); // 26 bytes
    expect(Array.from(frameRecord(data))).toEqual([
      ...hex('1a 00 00 00 00 00 00 00'), // uint64 LE length 26
      ...hex('12 9b d8 2d'), // masked CRC32C of those 8 bytes (0x2dd89b12, from a bitwise CRC32C)
      ...hex('09 00 00 00 00 00 00 f8 3f 10 03 2a 0d 0a 0b 0a 04'),
      ...bytesOf('loss'),
      ...hex('15 00 00 00 3f'),
      ...hex('80 65 5e e3'), // masked CRC32C of the 26 data bytes (0xe35e6580)
    ]);
    const header = frameRecord(fileVersionEvent(1.5)); // 24 bytes of data
    expect(Array.from(header.subarray(0, 12))).toEqual(hex('18 00 00 00 00 00 00 00 a3 7f 4b 22'));
    expect(Array.from(header.subarray(36))).toEqual(hex('2a 28 64 6c'));
  });

  it('produces a file an independent reader decodes event by event, CRCs and all', () => {
    let t = 1700000000;
    const enc = new EventFileEncoder(() => (t += 0.5));
    const parts: Uint8Array[] = [];
    const expected: { tag: string; value: number; step: number }[] = [];
    for (let step = 0; step < 200; step++) {
      const values = { 'train/loss': 1 / (step + 1), 'test/mse': Math.fround(0.9 - step * 1e-3), [`tag-${'x'.repeat(step)}`]: step };
      parts.push(enc.scalars(step, values));
      for (const [tag, value] of Object.entries(values)) expected.push({ tag, value, step });
    }
    const file = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      file.set(p, at);
      at += p.length;
    }
    const events = readRecords(file).map(decodeEvent);
    expect(events.length).toBe(1 + expected.length);
    expect(events[0]).toEqual({ wallTime: 1700000000.5, fileVersion: 'brain.Event:2', values: [] });
    for (let i = 0; i < expected.length; i++) {
      const e = events[i + 1];
      expect(e.step ?? 0n).toBe(BigInt(expected[i].step));
      expect(e.values).toEqual([{ tag: expected[i].tag, simpleValue: Math.fround(expected[i].value) }]);
    }
    // One clock reading per scalars() call; wall times never go backwards.
    const times = events.map((e) => e.wallTime ?? 0);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
    // A flipped bit anywhere is caught by a CRC.
    const bad = file.slice();
    bad[1000] ^= 4;
    expect(() => readRecords(bad)).toThrow(/bad (length|data) CRC/);
  });

  it('emits the file_version record once, before the first scalar', () => {
    const enc = new EventFileEncoder(() => 1.5);
    expect(enc.hasStarted).toBe(false);
    const first = enc.scalar('a', 1, 1);
    expect(readRecords(first).map(decodeEvent).map((e) => e.fileVersion ?? null)).toEqual(['brain.Event:2', null]);
    expect(readRecords(enc.scalar('a', 2, 2)).length).toBe(1);
    expect(enc.header().length).toBe(0);
  });
});

describe('text summary', () => {
  it("encodes add_text's Summary.Value: a DT_STRING tensor of shape [1] with the text plugin's metadata", () => {
    const v = textValue('config', 'a|b');
    const want = [
      ...hex('0a 13'), ...bytesOf('config/text_summary'),
      // tensor = 8: dtype DT_STRING (7), tensor_shape { dim { size 1 } }, string_val "a|b"
      ...hex('42 0d  08 07  12 04 12 02 08 01  42 03'), ...bytesOf('a|b'),
      // metadata = 9: SummaryMetadata { plugin_data = 1: PluginData { plugin_name = 1: "text" } }
      ...hex('4a 08  0a 06  0a 04'), ...bytesOf('text'),
    ];
    expect(Array.from(v)).toEqual(want);
    const enc = new EventFileEncoder(() => 2);
    const [, record] = readRecords(enc.summary(v, 0)).map(decodeEvent);
    expect(record.values[0].tag).toBe('config/text_summary');
    expect(decodeTextTensor(record.values[0].tensor as Uint8Array)).toMatchObject({ dtype: 7, text: 'a|b' });
  });
});
