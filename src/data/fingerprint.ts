// A fingerprint of the bytes a model was trained on: SHA-256 (hex) of the data files' bytes
// concatenated in the order listed, so `cat a b | sha256sum` gives the same digest. Checkpoints
// and run records carry it, so a prediction or a resume can say which data a model saw.
// Browser-safe: Web Crypto (globalThis.crypto.subtle), in Node and in browsers alike.

export interface DataFingerprint {
  /** SHA-256, lowercase hex, of the parts' bytes back to back in the order of `of`. */
  sha256: string;
  /** What was hashed, in order: file names (their last path part), or a generator's settings. */
  of: string[];
}

/** SHA-256 of `bytes` as lowercase hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Web Crypto wants an ArrayBuffer-backed view; a copy only where the bytes live elsewhere.
  const view = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', view));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The fingerprint of named parts (files, or a generator's settings as text), in the order given. */
export async function fingerprint(parts: readonly { name: string; bytes: Uint8Array }[]): Promise<DataFingerprint> {
  const total = parts.reduce((s, p) => s + p.bytes.length, 0);
  const all = parts.length === 1 ? parts[0].bytes : new Uint8Array(total);
  if (parts.length !== 1) {
    let at = 0;
    for (const p of parts) all.set(p.bytes, (at += p.bytes.length) - p.bytes.length);
  }
  return { sha256: await sha256Hex(all), of: parts.map((p) => p.name.split(/[\\/]/).pop() ?? p.name) };
}

/** The fingerprint of a generated data set: its generator's settings, as the text that names them. */
export function fingerprintText(text: string): Promise<DataFingerprint> {
  return fingerprint([{ name: text, bytes: new TextEncoder().encode(text) }]);
}
