// Looking at a trained model: how the page draws each inspect view the experiments' descriptors
// offer — a user's top movies beside what they rated in the test split (the recommender's
// "top-items"), and one meta-test episode with the network's answers (few-shot's "episode").
import type { EpisodeView } from '../../src/models/fewshot/inspect.ts';
import type { UserView } from '../../src/models/recommender/inspect.ts';
import { el } from './dom.ts';

/** How each view is drawn, by the name the descriptors give it. */
export const VIEWS: Record<string, (container: HTMLElement, result: unknown) => void> = {
  'top-items': (c, r) => renderTopItems(c, r as UserView),
  episode: (c, r) => renderEpisode(c, r as EpisodeView),
};

const movie = (item: number, title: string | null): string => (title ? `${title} (#${item})` : `item #${item}`);

function table(caption: string, head: string[], rows: (string | number)[][], empty: string): HTMLElement {
  if (rows.length === 0) return el('p', { class: 'empty' }, `${caption}: ${empty}`);
  return el(
    'table',
    {},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c, i) => (i === 1 ? el('th', { scope: 'row' }, String(c)) : el('td', {}, String(c))))))),
  );
}

function renderTopItems(container: HTMLElement, { user, top, rated }: UserView): void {
  container.replaceChildren(
    el(
      'div',
      { class: 'tables' },
      table(
        `Top ${top.length} for user ${user} (movies not rated in training, ranked by the factorization score)`,
        ['#', 'Movie', 'Predicted rating', 'Score'],
        top.map((t, i) => [i + 1, movie(t.item, t.title), t.predicted.toFixed(2), t.score.toFixed(3)]),
        'no movie left to recommend',
      ),
      table(
        `What user ${user} rated in the test split`,
        ['Rank', 'Movie', 'Rating', 'Predicted'],
        rated.map((r) => [r.rank, movie(r.item, r.title), r.rating.toFixed(1), r.predicted.toFixed(2)]),
        'none (this user has no held-out ratings)',
      ),
    ),
  );
}

const SCALE = 3;

function drawing(pixels: Uint8Array, side: number, label: string): HTMLCanvasElement {
  const c = el('canvas', { width: String(side), height: String(side), role: 'img', 'aria-label': label, title: label });
  c.style.width = c.style.height = `${side * SCALE}px`;
  const ctx = c.getContext('2d');
  if (ctx) {
    const img = ctx.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      // Ink is dark on white paper, as the drawings were made.
      const v = 255 - pixels[i];
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  return c;
}

function renderEpisode(container: HTMLElement, v: EpisodeView): void {
  const N = v.numClasses;
  const supportRows: HTMLElement[] = [];
  for (let k = 0; k < v.numShot; k++) {
    const cells = [];
    for (let c = 0; c < N; c++) cells.push(el('td', {}, drawing(v.support[k * N + c], v.side, `support, class ${c + 1}, example ${k + 1}: ${v.names[c]}`)));
    supportRows.push(el('tr', {}, el('th', { scope: 'row' }, `Support ${k + 1}`), ...cells));
  }
  let right = 0;
  const queries = v.queries.map((img, j) => {
    const ok = v.predicted[j] === v.truth[j];
    if (ok) right++;
    const p = v.probabilities[j][v.predicted[j]];
    const text = `${ok ? '✓ right' : '✗ wrong'}: predicted class ${v.predicted[j] + 1} (${(100 * p).toFixed(0)}%), truth class ${v.truth[j] + 1}`;
    return el('figure', { class: `query ${ok ? 'right' : 'wrong'}` }, drawing(img, v.side, `query ${j + 1}: ${text}`), el('figcaption', {}, text));
  });
  container.replaceChildren(
    el(
      'table',
      { class: 'episode' },
      el('caption', {}, `Support set: ${v.numShot} labelled example${v.numShot > 1 ? 's' : ''} of each of ${N} characters (columns are classes 1–${N})`),
      el('thead', {}, el('tr', {}, el('td', {}), ...v.names.map((n, c) => el('th', { scope: 'col', title: n }, `Class ${c + 1}`)))),
      el('tbody', {}, ...supportRows),
    ),
    el('h4', {}, `Queries: ${right} of ${N} right`),
    el('div', { class: 'queries' }, ...queries),
  );
}
