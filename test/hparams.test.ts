// The HParams plugin's summaries against tensorboard/plugins/hparams/{plugin_data,api}.proto and
// struct.proto, written out byte by byte here (never re-encoded with the code under test), then
// read back with a generic protobuf reader.
import { describe, expect, it } from 'vitest';
import { experimentValue, sessionEndValue, sessionStartValue, STATUS } from '../src/log/hparams.ts';
import { summaryEvent } from '../src/log/tensorboard.ts';

const hex = (s: string): number[] => (s.replace(/\s+/g, '').match(/../g) ?? []).map((b) => parseInt(b, 16));
const ascii = (s: string): number[] => Array.from(new TextEncoder().encode(s));

/** A protobuf message as [field, wire type, raw bytes or varint] triples. */
type Field = [number, number, Uint8Array | bigint];
function fields(data: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = data[i++];
      if (b === undefined) throw new Error('varint runs past the end');
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < data.length) {
    const key = Number(varint());
    const wire = key & 7;
    if (wire === 0) out.push([key >> 3, 0, varint()]);
    else if (wire === 1) out.push([key >> 3, 1, data.subarray(i, (i += 8))]);
    else if (wire === 2) {
      const n = Number(varint());
      out.push([key >> 3, 2, data.subarray(i, (i += n))]);
    } else throw new Error(`wire type ${wire}`);
  }
  if (i !== data.length) throw new Error('message overruns its length');
  return out;
}
const text = (b: Field[2]): string => new TextDecoder().decode(b as Uint8Array);
const only = (fs: Field[], n: number): Field[2] => {
  const hits = fs.filter((f) => f[0] === n);
  expect(hits, `field ${n}`).toHaveLength(1);
  return hits[0][2];
};

describe('HParams summaries', () => {
  it('session end: status and end time, under the plugin "hparams"', () => {
    // SessionEndInfo { status = 1 (SUCCESS) } → 08 01
    // HParamsPluginData { session_end_info = 4 } → 22 02 08 01 (version 0 is omitted)
    // PluginData { plugin_name = "hparams", content = <4 bytes> } → 0a 07 hparams 12 04 ...
    // SummaryMetadata { plugin_data = 1 } → 0a 0f ...; Value { tag = 1, metadata = 9 (key 0x4a) }
    const expected = [
      ...hex('0a 1a'),
      ...ascii('_hparams_/session_end_info'),
      ...hex('4a 11 0a 0f 0a 07'),
      ...ascii('hparams'),
      ...hex('12 04 22 02 08 01'),
    ];
    expect(Array.from(sessionEndValue(STATUS.success, 0))).toEqual(expected);
    // end_time_secs = 2 (double, key 0x11): 11 00 00 00 00 00 00 00 40
    const timed = sessionEndValue(STATUS.failure, 2);
    const plugin = fields(only(fields(only(fields(only(fields(timed), 9) as Uint8Array), 1) as Uint8Array), 2) as Uint8Array);
    expect(Array.from(only(plugin, 4) as Uint8Array)).toEqual(hex('08 02 11 00 00 00 00 00 00 00 40'));
  });

  it('session start: each hyperparameter a map entry of google.protobuf.Value, then the group and start time', () => {
    const bytes = sessionStartValue({ lr: 0.5, model: 'mmoe', shared: false }, 2, 'g');
    const info = [
      // entry { key = "lr", value = Value { number_value = 0.5 (key 0x11) } }
      ...hex('0a 0f 0a 02'),
      ...ascii('lr'),
      ...hex('12 09 11 00 00 00 00 00 00 e0 3f'),
      // entry { key = "model", value = Value { string_value = "mmoe" (key 0x1a) } }
      ...hex('0a 0f 0a 05'),
      ...ascii('model'),
      ...hex('12 06 1a 04'),
      ...ascii('mmoe'),
      // entry { key = "shared", value = Value { bool_value = false (key 0x20): written, it is a oneof } }
      ...hex('0a 0c 0a 06'),
      ...ascii('shared'),
      ...hex('12 02 20 00'),
      // group_name = "g" (key 0x22), start_time_secs = 2.0 (key 0x29)
      ...hex('22 01 67 29 00 00 00 00 00 00 00 40'),
    ];
    expect(info).toHaveLength(60);
    const expected = [
      ...hex('0a 1c'),
      ...ascii('_hparams_/session_start_info'),
      // metadata: 4a (73 + 2 = 0x4b) { 0a (60 + 2 + 2 + 9 = 73 = 0x49) { 0a 07 hparams, 12 (60 + 2 = 0x3e) { 1a 3c <info> } } }
      ...hex('4a 4b 0a 49 0a 07'),
      ...ascii('hparams'),
      ...hex('12 3e 1a 3c'),
      ...info,
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('experiment: hyperparameters with their discrete domains and types, metrics by tag', () => {
    const bytes = experimentValue([{ name: 'model', values: ['a', 'b'] }], [{ tag: 'test/loss' }], 0);
    const experiment = [
      // HParamInfo { name = "model", type = DATA_TYPE_STRING (1), domain_discrete = ListValue { "a", "b" } }
      ...hex('22 15 0a 05'),
      ...ascii('model'),
      ...hex('20 01 2a 0a 0a 03 1a 01 61 0a 03 1a 01 62'),
      // MetricInfo { name = MetricName { tag = "test/loss" } }
      ...hex('2a 0d 0a 0b 12 09'),
      ...ascii('test/loss'),
    ];
    expect(experiment).toHaveLength(38);
    expect(Array.from(bytes)).toEqual([...hex('0a 14'), ...ascii('_hparams_/experiment'), ...hex('4a 35 0a 33 0a 07'), ...ascii('hparams'), ...hex('12 28 12 26'), ...experiment]);
    // Numbers and booleans are typed DATA_TYPE_FLOAT64 (3) and DATA_TYPE_BOOL (2).
    const typed = (values: (number | boolean)[]): bigint => {
      const ex = fields(only(fields(only(fields(only(fields(only(fields(experimentValue([{ name: 'x', values }], [], 0)), 9) as Uint8Array), 1) as Uint8Array), 2) as Uint8Array), 2) as Uint8Array);
      return only(fields(only(ex, 4) as Uint8Array), 4) as bigint;
    };
    expect(typed([0.1, 1])).toBe(3n);
    expect(typed([true, false])).toBe(2n);
    expect(() => experimentValue([{ name: 'x', values: [1, 'a'] }], [], 0)).toThrow(/values of one type only/);
  });

  it('travels in an Event as a Summary of one value', () => {
    const value = sessionEndValue(STATUS.success, 0);
    // Event { wall_time = 1.5, step = 3, summary = 5 { value = 1 } }
    expect(Array.from(summaryEvent(value, 3, 1.5))).toEqual([...hex('09 00 00 00 00 00 00 f8 3f 10 03 2a'), value.length + 2, ...hex('0a'), value.length, ...value]);
    const event = fields(summaryEvent(value, 0, 1.5));
    expect(event.map((f) => f[0])).toEqual([1, 5]);
    const v = fields(only(fields(only(event, 5) as Uint8Array), 1) as Uint8Array);
    expect(text(only(v, 1))).toBe('_hparams_/session_end_info');
  });
});
