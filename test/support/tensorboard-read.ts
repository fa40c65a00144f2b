// An independent reader of TensorBoard event files for tests: TFRecord framing with both CRCs
// checked bitwise, and the Event protobuf fields the writer uses, decoded by hand (never with the
// code under test).
/** Bitwise CRC32C (reflected polynomial 0x82F63B78): slow, obvious, and not the crc-32 package. */
export function refCrc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
export const refMask = (c: number): number => Number(((BigInt(c) >> 15n) | (BigInt(c) << 17n)) % 2n ** 32n + 0xa282ead8n) % 2 ** 32;

export interface DecodedEvent {
  wallTime?: number;
  step?: bigint;
  fileVersion?: string;
  /** A plugin's summary (HParams, text) keeps its tensor (field 8) and metadata (field 9) as bytes. */
  values: { tag?: string; simpleValue?: number; tensor?: Uint8Array; metadata?: Uint8Array }[];
}

/** A minimal protobuf reader for the Event fields this writer uses; unknown fields fail. */
export function decodeEvent(data: Uint8Array): DecodedEvent {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const readVarint = (at: { i: number }): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = data[at.i++];
      if (b === undefined) throw new Error('varint runs past the end');
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  const fields = (start: number, end: number, on: (field: number, wire: number, at: { i: number }) => void): void => {
    const at = { i: start };
    while (at.i < end) {
      const key = Number(readVarint(at));
      on(key >> 3, key & 7, at);
    }
    if (at.i !== end) throw new Error('message overruns its length');
  };
  const ev: DecodedEvent = { values: [] };
  fields(0, data.length, (field, wire, at) => {
    if (field === 1 && wire === 1) {
      ev.wallTime = view.getFloat64(at.i, true);
      at.i += 8;
    } else if (field === 2 && wire === 0) {
      ev.step = BigInt.asIntN(64, readVarint(at));
    } else if (field === 3 && wire === 2) {
      const n = Number(readVarint(at));
      ev.fileVersion = new TextDecoder().decode(data.subarray(at.i, at.i + n));
      at.i += n;
    } else if (field === 5 && wire === 2) {
      const n = Number(readVarint(at));
      const end = at.i + n;
      fields(at.i, end, (f, w, at2) => {
        if (f !== 1 || w !== 2) throw new Error(`Summary field ${f}/${w}`);
        const m = Number(readVarint(at2));
        const value: DecodedEvent['values'][number] = {};
        fields(at2.i, at2.i + m, (vf, vw, at3) => {
          if (vf === 1 && vw === 2) {
            const k = Number(readVarint(at3));
            value.tag = new TextDecoder().decode(data.subarray(at3.i, at3.i + k));
            at3.i += k;
          } else if (vf === 2 && vw === 5) {
            value.simpleValue = view.getFloat32(at3.i, true);
            at3.i += 4;
          } else if ((vf === 8 || vf === 9) && vw === 2) {
            const k = Number(readVarint(at3));
            value[vf === 8 ? 'tensor' : 'metadata'] = data.subarray(at3.i, at3.i + k);
            at3.i += k;
          } else throw new Error(`Value field ${vf}/${vw}`);
        });
        at2.i += m;
        ev.values.push(value);
      });
      at.i = end;
    } else throw new Error(`Event field ${field}/${wire}`);
  });
  return ev;
}

/** Splits an event file into records, checking both CRCs of each. */
export function readRecords(file: Uint8Array): Uint8Array[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < file.length) {
    if (at + 12 > file.length) throw new Error(`truncated record header at ${at}`);
    const n = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== refMask(refCrc32c(file.subarray(at, at + 8)))) throw new Error(`bad length CRC at ${at}`);
    const data = file.subarray(at + 12, at + 12 + n);
    if (data.length !== n || at + 16 + n > file.length) throw new Error(`truncated record at ${at}`);
    if (view.getUint32(at + 12 + n, true) !== refMask(refCrc32c(data))) throw new Error(`bad data CRC at ${at}`);
    out.push(data);
    at += 16 + n;
  }
  return out;
}

/** A text plugin summary's string: TensorProto { dtype = 1 (DT_STRING, 7); tensor_shape = 2; string_val = 8 }, read field by field. */
export function decodeTextTensor(tensor: Uint8Array): { dtype: number; shape: Uint8Array; text: string } {
  let at = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = tensor[at++];
      if (b === undefined) throw new Error('varint runs past the end');
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
  };
  const out: { dtype: number; shape: Uint8Array; text: string } = { dtype: -1, shape: new Uint8Array(0), text: '' };
  while (at < tensor.length) {
    const key = varint();
    if (key === (1 << 3)) out.dtype = varint();
    else if (key === ((2 << 3) | 2) || key === ((8 << 3) | 2)) {
      const n = varint();
      const bytes = tensor.subarray(at, at + n);
      at += n;
      if (key >> 3 === 2) out.shape = bytes;
      else out.text = new TextDecoder().decode(bytes);
    } else throw new Error(`TensorProto field ${key >> 3}/${key & 7}`);
  }
  return out;
}
