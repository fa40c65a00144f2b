// Out-of-range indices made visible. Dawn's robustness (on in browsers, off in Node) turns an
// index past a storage array's end into a harmless read, so a kernel's tests pass either way,
// yet without it the access is undefined behaviour on a GPU and can fault SwiftShader. Here a
// kernel's WGSL is rewritten so that every index into the named arrays goes through a probe
// that, in an active lane, sets the array's bit in a flags word when the index is past the end
// (and clamps it, so the probed kernel itself never strays).

/**
 * `source` with each `name[index]` of `arrays` (nested ones too) probed, and the flags word
 * (an atomic u32: bit k for arrays[k]) declared at `@group(0) @binding(flagsBinding)`.
 * Indices must be u32 expressions.
 */
export function probeIndices(source: string, arrays: readonly string[], flagsBinding: number): string {
  const access = new RegExp(`\\b(${arrays.join('|')})\\[`, 'g');
  const rewrite = (src: string): string => {
    let out = '';
    let from = 0;
    const matches = [...src.matchAll(access)];
    for (const m of matches) {
      const open = (m.index as number) + m[0].length;
      if (open <= from) continue; // inside an index already rewritten
      let depth = 1;
      let close = open;
      for (; depth > 0; close++) {
        if (close >= src.length) throw new Error(`unbalanced brackets after ${m[0]} in the probed source`);
        if (src[close] === '[') depth++;
        else if (src[close] === ']') depth--;
      }
      out += `${src.slice(from, m.index)}${m[1]}[probe_${m[1]}(${rewrite(src.slice(open, close - 1))})]`;
      from = close;
    }
    return out + src.slice(from);
  };
  const probes = arrays.map(
    (name, bit) => `fn probe_${name}(i: u32) -> u32 {
  let n = arrayLength(&${name});
  if (i >= n) { atomicOr(&probe_flags, ${2 ** bit}u); }
  return min(i, n - 1u);
}`,
  );
  return `${rewrite(source)}
@group(0) @binding(${flagsBinding}) var<storage, read_write> probe_flags: atomic<u32>;
${probes.join('\n')}
`;
}

/** The names of the arrays whose bits are set in `flags`. */
export function strayArrays(arrays: readonly string[], flags: number): string[] {
  return arrays.filter((_, bit) => (flags >>> bit) & 1);
}
