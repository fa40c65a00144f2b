// Host-side preparation for the rank kernel: which (user, item) pairs the training split holds,
// so that ranking skips them.
import { maskWords } from '../kernels/rank.ts';

/** The training mask: bit `item` of row `user` is set when the pair is in the training split. */
export function ratedMask(users: ArrayLike<number>, items: ArrayLike<number>, shape: { users: number; items: number }): Uint32Array {
  const words = maskWords(shape.items);
  const mask = new Uint32Array(shape.users * words);
  for (let i = 0; i < users.length; i++) mask[users[i] * words + (items[i] >>> 5)] |= 1 << (items[i] & 31);
  return mask;
}
