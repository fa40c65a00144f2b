// Where Node keeps small persistent caches (autotune results, downloaded and preprocessed data).
// Its own file so that the data loaders and the GPU platform share the root without the data
// layer importing from src/gpu (and without loading Dawn to read a ratings file).
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The cache root: $SHADERTRAIN_CACHE, else $XDG_CACHE_HOME/shadertrain or ~/.cache/shadertrain. */
export function cacheDir(): string {
  return process.env.SHADERTRAIN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'shadertrain');
}
