// WGSL sources are imported as text: esbuild's `text` loader and the `wgsl` plugin in
// vitest.config.ts implement this one mechanism.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
