// MovieLens parsing on made-up inline data (no MovieLens rows here: their terms forbid copies).
// Runs in Node and in Chromium; the real files are read in movielens.node.test.ts.
import { gzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/data/errors.ts';
import { csvRecords, parseItemTitles, parseRatings, readMovieLensZip, readRatingsFromZip } from '../src/data/movielens.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function expectDataError(f: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    f();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(DataError);
  expect((thrown as Error).message).toMatch(message);
}

describe('parseRatings', () => {
  it('reads the 100K format in file order, ids as they are', () => {
    const r = parseRatings(text('7\t30\t4\t881250949\n2\t5\t1\t100\n7\t12\t5\t0\n'), 'u.data');
    expect(r.format).toBe('ml-100k');
    expect(r.count).toBe(3);
    expect(Array.from(r.users)).toEqual([7, 2, 7]);
    expect(Array.from(r.items)).toEqual([30, 5, 12]);
    expect(Array.from(r.ratings)).toEqual([4, 1, 5]);
    expect(Array.from(r.timestamps)).toEqual([881250949, 100, 0]);
    expect([r.maxUser, r.maxItem]).toEqual([7, 30]);
    expect(r.users.length).toBe(3);
  });

  it('reads the 1M format, CRLF endings and a missing final newline', () => {
    const r = parseRatings(text('1::1193::5::978300760\r\n11::3::2::978302109'), 'ratings.dat');
    expect(r.format).toBe('ml-1m');
    expect(Array.from(r.users)).toEqual([1, 11]);
    expect(Array.from(r.items)).toEqual([1193, 3]);
    expect(Array.from(r.ratings)).toEqual([5, 2]);
    expect(Array.from(r.timestamps)).toEqual([978300760, 978302109]);
  });

  it('reads ratings.csv with half stars after its header (and trailing blank lines)', () => {
    const r = parseRatings(text('userId,movieId,rating,timestamp\r\n3,99,0.5,964982703\r\n1,4,4.0,1\r\n4,16777215,3.5,2\r\n\r\n'), 'ratings.csv');
    expect(r.format).toBe('csv');
    expect(Array.from(r.users)).toEqual([3, 1, 4]);
    expect(Array.from(r.items)).toEqual([99, 4, 16777215]);
    expect(Array.from(r.ratings)).toEqual([0.5, 4, 3.5]);
    expect(r.maxItem).toBe(16777215);
  });

  it('tells the format by content, so splits like ua.base read too', () => {
    expect(parseRatings(text('1\t2\t3\t4\n'), 'ua.base').format).toBe('ml-100k');
    expect(parseRatings(text('1::2::3::4\n'), 'anything.txt').format).toBe('ml-1m');
  });

  it('reads through gzip and checks its CRC', () => {
    const gz = gzipSync(text('5\t6\t2\t7\n'));
    expect(Array.from(parseRatings(gz, 'u.data.gz').items)).toEqual([6]);
    const broken = gz.slice();
    broken[broken.length - 6] ^= 1; // in the stored CRC
    expectDataError(() => parseRatings(broken, 'u.data.gz'), /^u\.data\.gz is damaged/);
  });

  // Each problem: the file, the 1-based line, and what is wrong.
  const bad: [string, string, string, RegExp][] = [
    ['wrong field count (100K)', 'u.data', '1\t2\t3\t4\n1\t2\t3\n', /^u\.data line 2: expected 4 tab-separated fields .* found 3/],
    ['extra field (100K)', 'u.data', '1\t2\t3\t4\t\n', /^u\.data line 1: expected 4 tab-separated fields .* found 5/],
    ['wrong field count (1M)', 'ratings.dat', '1::2::3::4\n1::2::3::4::5\n', /^ratings\.dat line 2: expected 4 '::'-separated fields .* found 5/],
    ['wrong field count (csv)', 'ratings.csv', 'userId,movieId,rating,timestamp\n1,2,3\n', /^ratings\.csv line 2: expected 4 comma-separated fields .* found 3/],
    ['not a number', 'u.data', '1\t2\t3\t4\n1\tx7\t3\t4\n', /^u\.data line 2: item id "x7" is not a number/],
    ['empty field', 'ratings.dat', '1::::3::4\n', /^ratings\.dat line 1: movie id "" is not a number/],
    ['trailing space', 'u.data', '1\t2\t3\t4 \n', /^u\.data line 1: timestamp "4 " is not a number/],
    ['rating not a number', 'ratings.csv', 'userId,movieId,rating,timestamp\n1,2,NaN,4\n', /^ratings\.csv line 2: rating "NaN" is not a number/],
    ['rating above 5', 'u.data', '1\t2\t6\t4\n', /^u\.data line 1: rating 6 is outside 1–5/],
    ['rating 0 (100K)', 'u.data', '1\t2\t0\t4\n', /^u\.data line 1: rating 0 is outside 1–5/],
    ['half star in 100K', 'u.data', '1\t2\t3.5\t4\n', /^u\.data line 1: rating 3\.5 is not a whole number of stars/],
    ['rating 0.5 in 1M', 'ratings.dat', '1::2::0.5::4\n', /^ratings\.dat line 1: rating 0\.5 is outside 1–5/],
    ['rating 0 (csv)', 'ratings.csv', 'userId,movieId,rating,timestamp\n1,2,4.5,4\n1,2,0.0,4\n', /^ratings\.csv line 3: rating 0\.0 is outside 0\.5–5/],
    ['rating 5.5 (csv)', 'ratings.csv', 'userId,movieId,rating,timestamp\n1,2,5.5,4\n', /^ratings\.csv line 2: rating 5\.5 is outside 0\.5–5/],
    ['quarter star (csv)', 'ratings.csv', 'userId,movieId,rating,timestamp\n1,2,4.25,4\n', /^ratings\.csv line 2: rating 4\.25 is not a half number of stars/],
    ['user id 0', 'u.data', '1\t2\t3\t4\n0\t2\t3\t4\n', /^u\.data line 2: user id 0 is below 1/],
    ['negative item id', 'ratings.dat', '1::-3::3::4\n', /^ratings\.dat line 1: movie id -3 is below 1/],
    ['fractional id', 'u.data', '1.5\t2\t3\t4\n', /^u\.data line 1: user id 1\.5 is not a whole number/],
    ['id too large', 'u.data', '1\t16777216\t3\t4\n', /^u\.data line 1: item id 16777216 is above 16777215/],
    ['negative timestamp', 'u.data', '1\t2\t3\t-4\n', /^u\.data line 1: timestamp -4 is negative/],
    ['empty file', 'u.data', '', /^u\.data line 1: no ratings: the file is empty/],
    ['only newlines', 'u.data', '\n\r\n', /^u\.data line 1: no ratings: the file is empty/],
    ['header only', 'ratings.csv', 'userId,movieId,rating,timestamp\n', /^ratings\.csv line 2: no ratings after the header/],
    ['blank line inside', 'u.data', '1\t2\t3\t4\n\n1\t2\t3\t4\n', /^u\.data line 2: blank line/],
    ['blank first line', 'u.data', '\n1\t2\t3\t4\n', /^u\.data line 1: blank line/],
    ['csv without header', 'ratings.csv', '1,2,3,4\n', /^ratings\.csv line 1: expected the header userId,movieId,rating,timestamp/],
    ['unknown format', 'ratings.txt', '1 2 3 4\n', /^ratings\.txt line 1: "1 2 3 4" is not a MovieLens ratings line/],
    ['mixed formats', 'u.data', '1\t2\t3\t4\n1::2::3::4\n', /^u\.data line 2: expected 4 tab-separated fields/],
    ['binary bytes', 'u.data', '\u0000\u0001\u0002PNG', /^u\.data line 1: "\\u0000\\u0001\\u0002PNG" is not a MovieLens ratings line/],
    ['bare CR inside a line', 'u.data', '1\t2\t3\r4\n', /^u\.data line 1: expected 4 tab-separated fields/],
  ];
  for (const [what, name, body, message] of bad) {
    it(`rejects ${what}`, () => expectDataError(() => parseRatings(text(body), name), message));
  }

  it('parses 100K made-up lines', () => {
    const n = 100_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`${1 + (i % 943)}\t${1 + ((i * 7919) % 1682)}\t${1 + (i % 5)}\t${880000000 + i * 13}`);
    const bytes = text(lines.join('\n') + '\n');
    let best = Infinity;
    let r = parseRatings(bytes, 'made-up');
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      r = parseRatings(bytes, 'made-up');
      best = Math.min(best, performance.now() - t);
    }
    expect(r.count).toBe(n);
    expect(r.items[12345]).toBe(1 + ((12345 * 7919) % 1682));
    expect(r.timestamps[n - 1]).toBe(880000000 + (n - 1) * 13);
    console.log(`100K made-up lines parsed: best of 3 ${best.toFixed(1)} ms`);
  });
});

describe('parseItemTitles', () => {
  it('reads u.item as latin-1', () => {
    // "Caf\xe9 Sol" and a title with a comma; the remaining fields as u.item has them.
    const bytes = new Uint8Array([...text('1|Caf'), 0xe9, ...text(' Sol (1990)|01-Jan-1990||http://x|0|1\r\n12|Odd, The (1991)|||\n')]);
    const t = parseItemTitles(bytes, 'u.item');
    expect(t.get(1)).toBe('Café Sol (1990)');
    expect(t.get(12)).toBe('Odd, The (1991)');
    expect(t.size).toBe(2);
  });

  it('reads movies.dat as latin-1, genres split off at the last ::', () => {
    const bytes = new Uint8Array([...text('5::Na'), 0xef, ...text('ve (1980)::Drama|Comedy\n9::Plain (1999)::Drama\n')]);
    const t = parseItemTitles(bytes, 'movies.dat');
    expect(t.get(5)).toBe('Naïve (1980)');
    expect(t.get(9)).toBe('Plain (1999)');
  });

  it('reads movies.csv as UTF-8 with quoted titles', () => {
    const csv = 'movieId,title,genres\n1,Plain (2001),Drama\n2,"Comma, The (2002)",Comedy|Drama\n3,"Say ""Hi"" (2003)",Comedy\r\n4,"Two\nLines (2004)",Drama\n7,Naïve (2005),Drama\n';
    const t = parseItemTitles(text(csv), 'movies.csv');
    expect([...t.entries()]).toEqual([
      [1, 'Plain (2001)'],
      [2, 'Comma, The (2002)'],
      [3, 'Say "Hi" (2003)'],
      [4, 'Two\nLines (2004)'],
      [7, 'Naïve (2005)'],
    ]);
  });

  it('numbers CSV records by the line they start on', () => {
    const records = [...csvRecords('a,"b\nc"\nd,e\n', 'x.csv')];
    expect(records).toEqual([
      { fields: ['a', 'b\nc'], line: 1 },
      { fields: ['d', 'e'], line: 3 },
    ]);
  });

  const bad: [string, string, string, RegExp][] = [
    ['an unclosed quote', 'movies.csv', 'movieId,title,genres\n1,ok,x\n2,"never closed,x\n', /^movies\.csv line 3: a quoted field is never closed/],
    ['a stray quote', 'movies.csv', 'movieId,title,genres\n1,a"b,x\n', /^movies\.csv line 2: a quote inside the unquoted field/],
    ['text after a closing quote', 'movies.csv', 'movieId,title,genres\n1,"a"b,x\n', /^movies\.csv line 2: unexpected "b" after a closing quote/],
    ['a wrong field count', 'movies.csv', 'movieId,title,genres\n1,a,b,c\n', /^movies\.csv line 2: expected 3 fields/],
    ['a missing header', 'movies.csv', '1,a,b\n', /^movies\.csv line 1: expected the header movieId,title,genres/],
    ['a bad id', 'u.item', '1|a|\nx|b|\n', /^u\.item line 2: id "x" is not a whole number/],
    ['id 0', 'movies.dat', '0::a::b\n', /^movies\.dat line 1: id 0 is below 1/],
    ['a repeated id', 'u.item', '3|a|\n4|b|\n3|c|\n', /^u\.item line 3: id 3 appears again \(first on line 1\)/],
    ['a missing genres field', 'movies.dat', '1::a::b\n2::c\n', /^movies\.dat line 2: expected id::title::genres/],
    ['an empty file', 'u.item', '', /^u\.item line 1: no titles: the file is empty/],
    ['a header only', 'movies.csv', 'movieId,title,genres\n', /^movies\.csv line 2: no titles after the header/],
    ['a blank line inside', 'u.item', '1|a|\n\n2|b|\n', /^u\.item line 2: blank line/],
  ];
  for (const [what, name, body, message] of bad) {
    it(`rejects ${what}`, () => expectDataError(() => parseItemTitles(text(body), name), message));
  }

  it('rejects a movies.csv that is not UTF-8', () => {
    const bytes = new Uint8Array([...text('movieId,title,genres\n1,Caf'), 0xe9, ...text(',Drama\n')]);
    expectDataError(() => parseItemTitles(bytes, 'movies.csv'), /^movies\.csv is not valid UTF-8/);
  });
});

describe('readRatingsFromZip', () => {
  it('finds ml-100k/u.data and the u.item beside it', () => {
    const zip = zipSync({
      'ml-100k/README': text('made up'),
      'ml-100k/ua.base': text('9\t9\t1\t1\n'),
      'ml-100k/u.data': text('3\t4\t5\t6\n1\t2\t3\t4\n'),
      'ml-100k/u.item': text('4|Four (1994)|\n2|Two (1992)|\n'),
    });
    const z = readMovieLensZip(zip, 'ml-100k.zip');
    expect(z.ratingsPath).toBe('ml-100k/u.data');
    expect(Array.from(z.ratings.users)).toEqual([3, 1]);
    expect(z.titles?.get(4)).toBe('Four (1994)');
    expect(readRatingsFromZip(zip, 'ml-100k.zip').count).toBe(2);
  });

  it('finds ml-1m/ratings.dat (stored, not deflated) and ratings.csv at the top level', () => {
    const m1 = zipSync({ 'ml-1m/ratings.dat': text('1::2::3::4\n'), 'ml-1m/movies.dat': text('2::T (2000)::Drama\n') }, { level: 0 });
    expect(readMovieLensZip(m1, 'ml-1m.zip').titles?.get(2)).toBe('T (2000)');
    const csv = zipSync({ 'ratings.csv': text('userId,movieId,rating,timestamp\n1,2,2.5,4\n'), '__MACOSX/._ratings.csv': text('junk') });
    expect(Array.from(readRatingsFromZip(csv, 'ml-latest-small.zip').ratings)).toEqual([2.5]);
  });

  it('names the zip and the file inside in errors', () => {
    const bad = zipSync({ 'ml-100k/u.data': text('1\t2\t3\t4\n1\t2\t9\t4\n') });
    expectDataError(() => readRatingsFromZip(bad, 'ml-100k.zip'), /^ml-100k\.zip: ml-100k\/u\.data line 2: rating 9 is outside 1–5/);
    expectDataError(() => readRatingsFromZip(zipSync({ 'a/b.txt': text('x') }), 'x.zip'), /^x\.zip holds no MovieLens ratings file/);
    const two = zipSync({ 'a/u.data': text('1\t2\t3\t4\n'), 'b/ratings.csv': text('x') });
    expectDataError(() => readRatingsFromZip(two, 'two.zip'), /^two\.zip holds several ratings files \(a\/u\.data, b\/ratings\.csv\)/);
    expectDataError(() => readRatingsFromZip(text('PK\x03\x04 not really a zip'), 'fake.zip'), /^fake\.zip is not a valid zip archive/);
  });

  it('checks each entry against its CRC', () => {
    const zip = zipSync({ 'u.data': text('1\t2\t3\t4\n') }, { level: 0 });
    const at = zip.indexOf(0x33); // the stored '3'
    const changed = zip.slice();
    changed[at] = 0x34;
    expectDataError(() => readRatingsFromZip(changed, 'z.zip'), /^z\.zip: u\.data is damaged: its content does not match the zip's checksum/);
  });

  it('is what parseRatings does with zip bytes', () => {
    const zip = zipSync({ 'ml-1m/ratings.dat': text('8::9::1::2\n') });
    expect(parseRatings(zip, 'ml-1m.zip').maxItem).toBe(9);
  });
});
