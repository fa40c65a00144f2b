// Serves dist/web/ on 127.0.0.1 for local use and the end-to-end tests: plain static files,
// the page's Content-Security-Policy as a header too, nothing outside the folder.
//   node scripts/serve-web.mjs [--port N] [--dir PATH]      (--port 0 picks a free port)
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSP } from './build-web.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
};

/** Starts the server; resolves with its URL (ending in /) and a function that closes it. */
export function serveWeb({ dir = join(root, 'dist', 'web'), port = 8080, host = '127.0.0.1' } = {}) {
  const base = resolve(dir);
  const server = createServer(async (req, res) => {
    const headers = {
      'Content-Security-Policy': `${CSP}; frame-ancestors 'none'`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400, headers).end('bad request');
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}/`;
      resolvePromise({ url, close: () => new Promise((r) => server.close(() => r(undefined))) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const portText = opt('--port') ?? '8080';
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    console.error(`serve-web: --port must be a port number, not "${portText}"`);
    process.exit(2);
  }
  const dir = opt('--dir');
  try {
    const s = await serveWeb({ port: Number(portText), ...(dir ? { dir } : {}) });
    console.log(`serving ${dir ?? 'dist/web'} at ${s.url}`);
  } catch (err) {
    console.error(`serve-web: ${err.code === 'EADDRINUSE' ? `port ${portText} is in use; pick another with --port` : err.message}`);
    process.exit(1);
  }
}
