#!/usr/bin/env node
// Static server for the built app (dist/) on 127.0.0.1: correct MIME types for .wasm/.mjs/.json, HTTP Range, and the
// cross-origin-isolation headers onnxruntime-web's threaded WASM needs. Also serves the static Hub layout under /hub
// (extension-less API answers are JSON), and answers model search and refs for its repos, so the bundled mirror works
// with the Model panel's autocomplete and revision picker. Port: --port N, or PORT, or 4173. Usage: node scripts/serve.mjs [--port N] [--root DIR]
import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/jsonl; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.jinja': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.parquet': 'application/vnd.apache.parquet',
  '.safetensors': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
};

function parseArgs(argv) {
  const out = { port: Number(process.env.PORT ?? 4173), root: 'dist' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') out.port = Number(argv[++i]);
    else if (arg.startsWith('--port=')) out.port = Number(arg.slice(7));
    else if (arg === '--root') out.root = argv[++i];
    else if (arg.startsWith('--root=')) out.root = arg.slice(7);
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node scripts/serve.mjs [--port N] [--root DIR]   (PORT env also works; default 4173, dist/)');
      process.exit(0);
    } else {
      console.error(`serve: unknown argument "${arg}". Try --help.`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) {
    console.error(`serve: port must be an integer 0-65535, got "${out.port}".`);
    process.exit(2);
  }
  return out;
}

/** Content type for a path. Files under /hub/api/ carry the Hub API's JSON answers without an extension. */
function contentType(urlPath, filePath) {
  const ext = extname(filePath).toLowerCase();
  if (MIME[ext]) return MIME[ext];
  if (urlPath.startsWith('/hub/api/')) return 'application/json; charset=utf-8';
  return 'application/octet-stream';
}

/** Parses a single `bytes=a-b` range (the only form browsers and the Hub client send). null: serve the whole file. */
function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return 'invalid';
  const [, a, b] = m;
  let start;
  let end;
  if (a === '' && b === '') return 'invalid';
  if (a === '') {
    start = Math.max(0, size - Number(b));
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start > end || start >= size) return 'unsatisfiable';
  return { start, end };
}

async function resolveFile(root, urlPath) {
  const decoded = decodeURIComponent(urlPath);
  const full = normalize(join(root, decoded));
  if (full !== root && !full.startsWith(root + sep)) return null;
  try {
    const st = await fs.stat(full);
    if (st.isDirectory()) {
      const index = join(full, 'index.html');
      const ist = await fs.stat(index).catch(() => null);
      return ist?.isFile() ? { path: index, size: ist.size, mtime: ist.mtimeMs } : null;
    }
    return st.isFile() ? { path: full, size: st.size, mtime: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

/** The repos of the static Hub layout under {root}/hub: every api/models/{org}/{name}/revision/main answer. */
async function hubRepos(root) {
  const dir = join(root, 'hub', 'api', 'models');
  const repos = [];
  for (const org of await fs.readdir(dir).catch(() => [])) {
    for (const name of await fs.readdir(join(dir, org)).catch(() => [])) {
      try {
        const info = JSON.parse(await fs.readFile(join(dir, org, name, 'revision', 'main'), 'utf8'));
        if (typeof info?.sha === 'string') repos.push({ id: `${org}/${name}`, sha: info.sha, lastModified: info.lastModified ?? null, tags: info.tags ?? [] });
      } catch {
        // not a repo of the static layout
      }
    }
  }
  return repos.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The two Hub API answers a static folder cannot hold: model search (`/hub/api/models?search=Q&limit=N`, ids containing Q
 * case-insensitively) and a repo's refs (`/hub/api/models/{org}/{name}/refs`, one branch: main). null: not one of them. */
async function hubApi(root, url) {
  if (url.pathname === '/hub/api/models') {
    const q = (url.searchParams.get('search') ?? '').toLowerCase();
    const limit = Math.max(1, Math.min(1000, Number(url.searchParams.get('limit')) || 20));
    const hits = (await hubRepos(root)).filter((r) => r.id.toLowerCase().includes(q)).slice(0, limit);
    return hits.map((r) => ({ _id: r.sha.slice(0, 24), id: r.id, modelId: r.id, downloads: 0, likes: 0, private: false, lastModified: r.lastModified, tags: r.tags }));
  }
  const refs = /^\/hub\/api\/models\/([\w.-]+)\/([\w.-]+)\/refs$/.exec(url.pathname);
  if (refs) {
    const repo = (await hubRepos(root)).find((r) => r.id === `${refs[1]}/${refs[2]}`);
    return repo ? { branches: [{ name: 'main', ref: 'refs/heads/main', targetCommit: repo.sha }], converts: [], tags: [] } : undefined;
  }
  return null;
}

function baseHeaders() {
  return {
    // Cross-origin isolation gives the WASM backend SharedArrayBuffer (threads); CORS fetches to the Hub still work.
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
  };
}

export function startServer({ root, port, host = '127.0.0.1' }) {
  const absRoot = resolve(root);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...baseHeaders(), Allow: 'GET, HEAD' }).end();
      return;
    }
    const api = await hubApi(absRoot, url);
    if (api !== null) {
      const body = api === undefined ? JSON.stringify({ error: `Repository not found: ${url.pathname}` }) : JSON.stringify(api);
      res.writeHead(api === undefined ? 404 : 200, { ...baseHeaders(), 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    let file;
    try {
      file = await resolveFile(absRoot, url.pathname);
    } catch {
      file = null;
    }
    if (!file) {
      res.writeHead(404, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : `Not found: ${url.pathname}\n`);
      return;
    }
    const headers = {
      ...baseHeaders(),
      'Content-Type': contentType(url.pathname, file.path),
      'Accept-Ranges': 'bytes',
      'Last-Modified': new Date(file.mtime).toUTCString(),
      // Hashed build assets never change; everything else is revalidated so a rebuild shows at once.
      'Cache-Control': url.pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    let status = 200;
    let range = null;
    if (req.headers.range) {
      range = parseRange(req.headers.range, file.size);
      if (range === 'unsatisfiable' || range === 'invalid') {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${file.size}` }).end();
        return;
      }
      status = 206;
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${file.size}`;
      headers['Content-Length'] = String(range.end - range.start + 1);
    } else {
      headers['Content-Length'] = String(file.size);
    }
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file.path, range ? { start: range.start, end: range.end } : {});
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolvePromise({ server, url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/` });
    });
  });
}

const isMain = import.meta.url === new URL(`file://${resolve(process.argv[1] ?? '')}`).href;
if (isMain) {
  const args = parseArgs(process.argv.slice(2));
  try {
    await fs.access(join(resolve(args.root), 'index.html'));
  } catch {
    console.error(`serve: ${resolve(args.root)}/index.html is missing. Build the app first: npx vite build`);
    process.exit(1);
  }
  try {
    const { url } = await startServer(args);
    console.log(`TabTune is being served at ${url}  (Ctrl-C to stop)`);
  } catch (err) {
    const hint = err?.code === 'EADDRINUSE' ? ` Port ${args.port} is busy: pass --port N or set PORT.` : '';
    console.error(`serve: could not listen on 127.0.0.1:${args.port}: ${err?.message ?? err}.${hint}`);
    process.exit(1);
  }
}
