// The comparison-report renderers: SVG line charts (checked as XML and by the geometry of their
// paths, not as a snapshot) and Markdown tables.
import { describe, expect, it } from 'vitest';
import { lineChartSvg, type ChartPanel } from '../src/log/chart-svg.ts';
import { duration, fixed, markdownTable, meanStd, percent, sig, signed } from '../src/log/markdown.ts';
import { checkXml, seriesPaths, subpaths } from './support/svg.ts';

const panels: ChartPanel[] = [
  {
    title: 'Mean reciprocal rank',
    xLabel: 'epoch',
    yLabel: 'MRR',
    series: [
      { name: 'shared-bottom', y: [0.1, 0.2, 0.25, 0.3, 0.32] },
      { name: 'MMoE', y: [0.12, 0.18, NaN, 0.31, 0.35] },
      { name: 'ESMM <&> "q"', y: [0.2] },
    ],
  },
  {
    title: 'Test MSE',
    xLabel: 'epoch',
    yLabel: 'MSE',
    series: [
      { name: 'shared-bottom', y: [1.2, 1.0, 0.95, 0.93, 0.92] },
      { name: 'MMoE', y: [1.1, 1.0, 1.0, null, 0.9] },
      { name: 'flat', y: [0.5, 0.5, 0.5] },
    ],
  },
];

describe('lineChartSvg', () => {
  const svg = lineChartSvg(panels, { title: 'Recommender & friends' });

  it('writes well-formed SVG', () => {
    const names = checkXml(svg);
    expect(names[0]).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    if (typeof DOMParser !== 'undefined') {
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      expect(doc.getElementsByTagName('parsererror').length).toBe(0);
      // Six series paths (the lone point's "M x,y Z" included), and the legend as the browser reads it.
      expect(doc.documentElement.querySelectorAll('g.series > path').length).toBe(6);
      expect(Array.from(doc.documentElement.querySelectorAll('g.legend-item text')).map((t) => t.textContent)).toEqual([
        'shared-bottom',
        'MMoE',
        'ESMM <&> "q"',
        'flat',
      ]);
    }
  });

  it('the XML check itself rejects broken documents', () => {
    expect(() => checkXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => checkXml('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => checkXml('<svg><text>R&D</text></svg>')).toThrow(/raw/);
    expect(() => checkXml('<svg a=1/>')).toThrow(/unparsed/);
  });

  it('escapes every piece of text it is given', () => {
    expect(svg).toContain('Recommender &amp; friends');
    expect(svg).toContain('ESMM &lt;&amp;&gt; &quot;q&quot;');
    expect(svg).not.toContain('<&>');
  });

  it('draws each panel with its series, and one legend with every series once', () => {
    const paths = seriesPaths(svg);
    expect(paths.length).toBe(2);
    expect([...paths[0].keys()]).toEqual(['shared-bottom', 'MMoE', 'ESMM <&> "q"'].map((n) => n.replace('<&> "q"', '&lt;&amp;&gt; &quot;q&quot;')));
    expect([...paths[1].keys()]).toEqual(['shared-bottom', 'MMoE', 'flat']);
    const legend = [...svg.matchAll(/<g class="legend-item"[^>]*><line[^>]*stroke="([^"]+)"[^>]*\/><text[^>]*>([^<]*)<\/text>/g)].map((m) => [m[2], m[1]]);
    expect(legend.map((l) => l[0])).toEqual(['shared-bottom', 'MMoE', 'ESMM &lt;&amp;&gt; &quot;q&quot;', 'flat']);
    // A series keeps its legend colour in every panel.
    expect(new Set(legend.map((l) => l[1])).size).toBe(4);
    for (const [name, color] of legend) {
      const strokes = [...svg.matchAll(new RegExp(`data-series="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}">\\n<path[^>]*stroke="([^"]+)"`, 'g'))].map((m) => m[1]);
      for (const s of strokes) expect(s).toBe(color);
    }
  });

  it('moves right and up for an increasing series', () => {
    const [sub] = subpaths(seriesPaths(svg)[0].get('shared-bottom') as string);
    expect(sub.length).toBe(5);
    for (let i = 1; i < sub.length; i++) {
      expect(sub[i].x).toBeGreaterThan(sub[i - 1].x);
      expect(sub[i].y).toBeLessThan(sub[i - 1].y); // SVG y grows downwards
    }
    // and down for a decreasing one
    const [mse] = subpaths(seriesPaths(svg)[1].get('shared-bottom') as string);
    for (let i = 1; i < mse.length; i++) expect(mse[i].y).toBeGreaterThan(mse[i - 1].y);
  });

  it('leaves gaps at NaN and null, draws a dot for a lone point, and a level line for a flat series', () => {
    const mmoe = subpaths(seriesPaths(svg)[0].get('MMoE') as string);
    expect(mmoe.map((s) => s.length)).toEqual([2, 2]);
    const mmoeMse = subpaths(seriesPaths(svg)[1].get('MMoE') as string);
    expect(mmoeMse.map((s) => s.length)).toEqual([3, 1]);
    // The point after the null stands alone: it gets a dot, as does the one-point series.
    const panel0 = svg.split('<g class="panel"')[1];
    const esmm = panel0.slice(panel0.indexOf('data-series="ESMM'));
    expect(esmm.slice(0, esmm.indexOf('</g>'))).toMatch(/<circle /);
    expect(svg.split('<g class="panel"')[2].match(/<circle /g)?.length).toBe(1);
    const [flat] = subpaths(seriesPaths(svg)[1].get('flat') as string);
    expect(new Set(flat.map((p) => p.y)).size).toBe(1);
    expect(flat[2].x).toBeGreaterThan(flat[0].x);
  });

  it('ticks both axes with readable numbers', () => {
    const panel1 = svg.split('<g class="panel"')[2];
    const labels = [...panel1.matchAll(/<text [^>]*fill="#444">([^<]*)<\/text>/g)].map((m) => m[1]);
    // Epochs 1..5: whole-number x ticks only.
    expect(labels).toEqual(expect.arrayContaining(['1', '2', '3', '4', '5']));
    expect(labels.some((l) => /^\d+\.5$/.test(l) && Number(l) < 6)).toBe(false);
    // The y axis spans 0.5..1.2 after nice().
    const ys = labels.map(Number).filter((v) => v < 1.3 && !Number.isInteger(v));
    expect(Math.min(...ys)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...ys)).toBeGreaterThanOrEqual(1.2);
  });

  it('handles a panel with no data, a lone value, custom x and several rows', () => {
    const s = lineChartSvg(
      [
        { title: 'empty', series: [{ name: 'a', y: [NaN, null] }] },
        { title: 'one', series: [{ name: 'b', y: [3], x: [100] }] },
        { title: 'steps', series: [{ name: 'c', y: [1, 2, 3], x: [100, 200, 300] }] },
      ],
      { columns: 2 },
    );
    checkXml(s);
    expect(s).toContain('no data');
    expect(s).not.toContain('NaN');
    const p = seriesPaths(s);
    expect(p[0].get('a')).toBeNull();
    expect(p[1].get('b')).toMatch(/^M[\d.]+,[\d.]+Z$/);
    expect(subpaths(p[2].get('c') as string)[0].length).toBe(3);
    expect(s).toMatch(/<svg [^>]*width="840"/);
    expect(() => lineChartSvg([{ title: 't', series: [{ name: 'x', y: [1, 2], x: [1] }] }])).toThrow(/1 x values for 2 y values/);
    expect(() => lineChartSvg([])).toThrow(/at least one panel/);
  });
});

describe('markdownTable', () => {
  it('pads, aligns numbers right and text left, and formats numbers', () => {
    const t = markdownTable(['model', 'MRR', 'MSE'], [
      ['shared-bottom', 0.41234, 0.9],
      ['MMoE', 0.4, 12],
    ]);
    expect(t).toBe(
      [
        '| model         |    MRR | MSE |',
        '| ------------- | -----: | --: |',
        '| shared-bottom | 0.4123 | 0.9 |',
        '| MMoE          |    0.4 |  12 |',
        '',
      ].join('\n'),
    );
  });

  it('escapes pipes and newlines, honours explicit alignment, and checks row lengths', () => {
    const t = markdownTable(['a|b', 'c'], [['x\ny', meanStd(0.4123, 0.0101)]], ['center', 'left']);
    expect(t.split('\n')[0]).toBe('|  a\\|b  | c             |');
    expect(t.split('\n')[1]).toBe('| :----: | ------------- |');
    expect(t.split('\n')[2]).toBe('| x<br>y | 0.412 ± 0.010 |');
    expect(() => markdownTable(['a', 'b'], [[1]])).toThrow(/row 1 has 1 cells, the header has 2/);
    expect(() => markdownTable(['a'], [], ['left', 'right'])).toThrow(/2 alignments for 1 columns/);
    expect(markdownTable(['x', 'y'], [[NaN, null]]).split('\n')[2]).toBe('| NaN |     |');
  });

  it('formats numbers as reports want them', () => {
    expect(fixed(0.41234)).toBe('0.412');
    expect(fixed(-0.0001)).toBe('0.000');
    expect(fixed(NaN)).toBe('NaN');
    expect(sig(1234.5, 3)).toBe('1230');
    expect(sig(0.99996, 4)).toBe('1.000');
    expect(sig(0.000012345, 3)).toBe('1.23e-5');
    expect(sig(-Infinity)).toBe('−∞');
    expect(percent(0.1234)).toBe('12.3%');
    expect(signed(0.0123)).toBe('+0.012');
    expect(signed(-2, 1)).toBe('−2.0');
    expect(signed(0.0001)).toBe('0.000');
    expect(duration(0.25)).toBe('250 ms');
    expect(duration(12.34)).toBe('12.3 s');
    expect(duration(75)).toBe('1 min 15 s');
    expect(duration(3725)).toBe('1 h 02 min');
  });
});
