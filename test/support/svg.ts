// Reading the SVG charts back in tests: a well-formedness check and the series paths per panel.

/**
 * A small well-formedness check: one root, balanced tags, quoted attributes, no raw `<` or
 * stray `&` in text or attribute values. Returns the element names in document order.
 */
export function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  const entity = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const checkText = (t: string, where: string): void => {
    if (t.replace(entity, '').match(/[<&]/)) throw new Error(`raw < or & in ${where}: ${JSON.stringify(t.slice(0, 60))}`);
  };
  const re = /<([^>]*)>|([^<]+)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (m[2] !== undefined) {
      if (stack.length === 0 && m[2].trim()) throw new Error(`text outside the root: ${m[2].trim().slice(0, 40)}`);
      checkText(m[2], 'text');
      continue;
    }
    const tag = m[1];
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const nm = /^([A-Za-z][\w:.-]*)/.exec(body);
    if (!nm) throw new Error(`bad tag <${tag}>`);
    let rest = body.slice(nm[1].length);
    const attr = /^\s+([A-Za-z_:][\w:.-]*)="([^"]*)"/;
    const seen = new Set<string>();
    for (let a = attr.exec(rest); a; a = attr.exec(rest)) {
      if (seen.has(a[1])) throw new Error(`attribute ${a[1]} twice in <${nm[1]}>`);
      seen.add(a[1]);
      checkText(a[2], `attribute ${a[1]}`);
      rest = rest.slice(a[0].length);
    }
    if (rest.trim()) throw new Error(`unparsed attributes in <${nm[1]}>: ${rest}`);
    if (stack.length === 0) roots++;
    names.push(nm[1]);
    if (!selfClosing) stack.push(nm[1]);
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return names;
}

/** The d attribute of every series path, per panel, keyed by series name. */
export function seriesPaths(svg: string): Map<string, string | null>[] {
  return svg
    .split('<g class="panel"')
    .slice(1)
    .map((panel) => {
      const out = new Map<string, string | null>();
      const re = /<g class="series" data-series="([^"]*)">\n(?:<path d="([^"]*)")?/g;
      for (let m = re.exec(panel); m; m = re.exec(panel)) out.set(m[1], m[2] ?? null);
      return out;
    });
}

/** Subpaths of a d3 linear path ("M1,2L3,4M..."), as point lists. */
export function subpaths(d: string): { x: number; y: number }[][] {
  return d
    .split('M')
    .filter(Boolean)
    .map((sub) =>
      sub
        .replace(/Z$/, '')
        .split('L')
        .map((p) => {
          const [x, y] = p.split(',').map(Number);
          return { x, y };
        }),
    );
}
