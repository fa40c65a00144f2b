// Host-side preparation of a batch's embedding indices for the segmented kernels: the packed
// CSR that embedding_backward and the sparse Adams read, and the row → segment map of table Adam.
import { csrWords, segmentCapacity, type EmbeddingShape } from '../kernels/embedding.ts';
import { KernelError } from '../kernels/kernel.ts';

const fmt = (s: EmbeddingShape): string => `[rows=${s.rows}, dim=${s.dim}] with ${s.n} indices`;

/** Rejects indices outside [0, rows), naming the kernel, the first bad position and the table. */
function checkIndices(kernel: string, indices: ArrayLike<number>, rows: number): void {
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (!(v >= 0 && v < rows && Number.isInteger(v))) {
      throw new KernelError(kernel, `index ${v} at position ${i} is out of range for a table of ${rows} rows`);
    }
  }
}

/**
 * Sorts the batch's positions by row with a stable counting sort, so each row's positions
 * stay in ascending order and the GPU sums them in that fixed order.
 */
export function packSegments(indices: Uint32Array, shape: EmbeddingShape, out = new Uint32Array(csrWords(shape))): Uint32Array {
  const kernel = 'embedding_backward';
  if (indices.length !== shape.n) throw new KernelError(kernel, `expected ${shape.n} indices for ${fmt(shape)}, got ${indices.length}`);
  checkIndices(kernel, indices, shape.rows);
  const cap = segmentCapacity(shape);
  const counts = new Uint32Array(shape.rows);
  for (let i = 0; i < indices.length; i++) counts[indices[i]]++;
  const rowsAt = 1;
  const startsAt = 1 + cap;
  const permAt = 2 + 2 * cap;
  const cursor = new Uint32Array(shape.rows);
  let nseg = 0;
  let pos = 0;
  for (let r = 0; r < shape.rows; r++) {
    if (counts[r] === 0) continue;
    out[rowsAt + nseg] = r;
    out[startsAt + nseg] = pos;
    cursor[r] = pos;
    pos += counts[r];
    nseg++;
  }
  out[startsAt + nseg] = pos;
  out[0] = nseg;
  for (let i = 0; i < indices.length; i++) out[permAt + cursor[indices[i]]++] = i;
  return out;
}

/** seg_of_row for a packed CSR (packSegments): 1 + the row's segment, 0 for rows the batch does not touch. */
export function segmentMap(csr: Uint32Array, rows: number, out = new Uint32Array(rows)): Uint32Array {
  out.fill(0);
  const nseg = csr[0];
  for (let s = 0; s < nseg; s++) out[csr[1 + s]] = s + 1;
  return out;
}
