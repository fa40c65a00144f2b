// Host-side preparation of a batch's bags for embedding_bag: the packed CSR the forward reads
// and its transpose, which the backward reads (shaders/embedding-bag.wgsl has the layout).
import { bagCsrWords, EmbeddingBag } from '../kernels/embedding-bag.ts';
import { KernelError } from '../kernels/kernel.ts';

/**
 * Packs per-row lists (each sorted ascending by the caller) into a CSR of `capacity` slots.
 * Returns the used prefix: [off | the nnz indices], enough to upload.
 */
export function packBagCsr(lists: readonly ArrayLike<number>[], capacity: number, out: Uint32Array = new Uint32Array(bagCsrWords(lists.length, capacity))): Uint32Array {
  const rows = lists.length;
  let k = 0;
  out[0] = 0;
  for (let r = 0; r < rows; r++) {
    const l = lists[r];
    if (k + l.length > capacity) throw new KernelError(EmbeddingBag.kernel, `the bags hold more than ${capacity} entries`);
    for (let j = 0; j < l.length; j++) out[rows + 1 + k + j] = l[j];
    k += l.length;
    out[r + 1] = k;
  }
  return out.subarray(0, rows + 1 + k);
}

/**
 * The transposed CSR: for each of `srcRows` source rows, the bags (in ascending order) that
 * hold it, by a stable counting sort. `csr` has `rows` bags. Returns the used prefix of `out`.
 */
export function transposeBagCsr(csr: ArrayLike<number>, rows: number, srcRows: number, capacity: number, out: Uint32Array = new Uint32Array(bagCsrWords(srcRows, capacity))): Uint32Array {
  const nnz = csr[rows];
  const idxAt = rows + 1;
  out.fill(0, 0, srcRows + 1);
  for (let k = 0; k < nnz; k++) out[csr[idxAt + k] + 1]++;
  for (let v = 0; v < srcRows; v++) out[v + 1] += out[v];
  // cursor[v] starts at off[v]; the bags come in ascending order, so each list is sorted.
  const cursor = out.slice(0, srcRows);
  const at = srcRows + 1;
  for (let r = 0; r < rows; r++) {
    for (let k = csr[r]; k < csr[r + 1]; k++) out[at + cursor[csr[idxAt + k]]++] = r;
  }
  return out.subarray(0, srcRows + 1 + nnz);
}
