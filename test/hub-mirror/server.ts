// Local Hugging Face Hub mirror for tests, e2e and offline use: serves repos from a folder in the Hub's URL layout
// (resolve with Range/HEAD and the headers Hub clients read, the revision API with sizes and LFS hashes, model search
// and refs), with CORS so a page on another port can use it. Models live at {root}/{org}/{repo}/…, datasets at
// {root}/datasets/{org}/{repo}/….
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';
import { HUB_DIR, MANIFEST_PATH, readManifest } from '../../scripts/fixtures/layout.ts';
import { commitSha, describeFile, describeHashed, revisionInfo, type RepoFileInfo } from '../../scripts/fixtures/repo-info.ts';

export interface MirrorOptions {
  /** Folder holding the repos; defaults to fixtures/generated/hub. */
  root?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Repos that need a token: repo id → the token that grants access (401 without one, 403 with a wrong one). */
  gated?: Record<string, string>;
  /** Extra routes tried before the read-only ones (e.g. the write API of commit.ts, via commitExtension). */
  extensions?: MirrorExtension[];
}

/** Builds a request handler on the mirror's root; it returns true when it answered the request. Call `invalidate`
 * after changing files so the mirror re-reads repos (their listings and commit shas are cached). */
type MirrorExtension = (ctx: { root: string; invalidate: () => void }) => (req: IncomingMessage, res: ServerResponse) => boolean;

interface MirrorRequest {
  method: string;
  path: string;
  range?: string;
  status: number;
}

export interface Mirror {
  url: string;
  /** Every request served, in order; tests use it to check that Range requests were made. */
  requests: MirrorRequest[];
  close(): Promise<void>;
}

type RepoType = 'model' | 'dataset';

interface Repo {
  dir: string;
  sha: string;
  files: Map<string, RepoFileInfo>;
  config?: Record<string, unknown>;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': 'Range, Authorization, Content-Type, If-None-Match',
  'Access-Control-Expose-Headers':
    'ETag, X-Repo-Commit, X-Linked-Etag, X-Linked-Size, Accept-Ranges, Content-Range, Content-Length, X-Error-Code, X-Error-Message',
};

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** sha256s the generator recorded for the default root, trusted for files not modified since it was written. */
function manifestHashes(id: string): { known: Map<string, { size: number; sha256: string }>; writtenMs: number } | undefined {
  const manifest = readManifest();
  const files = manifest?.repos[id]?.files;
  if (!files) return undefined;
  return { known: new Map(files.map((f) => [f.path, f])), writtenMs: statSync(MANIFEST_PATH).mtimeMs };
}

/**
 * Reads a repo folder once and derives the commit sha the same way the generator does. Files are hashed, except
 * fixture files unchanged since the manifest recorded their sha256 (saves hashing ~130 MB per mirror start).
 */
function loadRepo(dir: string, recorded?: ReturnType<typeof manifestHashes>): Repo | undefined {
  try {
    if (!statSync(dir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const infos = listFiles(dir).map((full) => {
    const path = relative(dir, full).split(sep).join('/');
    const known = recorded?.known.get(path);
    const stat = statSync(full);
    if (known && recorded && known.size === stat.size && stat.mtimeMs <= recorded.writtenMs) {
      return describeHashed(path, stat.size, known.sha256, () => readFileSync(full));
    }
    return describeFile(path, readFileSync(full));
  });
  let config: Record<string, unknown> | undefined;
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    config = undefined;
  }
  return { dir, sha: commitSha(infos), files: new Map(infos.map((f) => [f.path, f])), config };
}

function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) return undefined; // malformed or multi-range: serve the whole file, as RFC 9110 allows
  let start: number;
  let end: number;
  if (!m[1]) {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

function contentType(path: string): string {
  if (path.endsWith('.json')) return 'application/json; charset=utf-8';
  if (path.endsWith('.md') || path.endsWith('.txt')) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

export async function startMirror(opts: MirrorOptions = {}): Promise<Mirror> {
  const root = opts.root ?? HUB_DIR;
  const repos = new Map<string, Repo | undefined>();
  const requests: MirrorRequest[] = [];
  const downloads = new Map<string, number>();

  function sendJson(req: IncomingMessage, res: ServerResponse, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** Model repo ids under the root: `{org}/{name}` folders holding files (datasets/ is the dataset tree). */
  function modelIds(): string[] {
    const ids: string[] = [];
    for (const org of readdirSync(root, { withFileTypes: true })) {
      if (!org.isDirectory() || org.name === 'datasets' || org.name.startsWith('.')) continue;
      for (const name of readdirSync(join(root, org.name), { withFileTypes: true })) {
        if (name.isDirectory()) ids.push(`${org.name}/${name.name}`);
      }
    }
    return ids.sort();
  }

  /**
   * `GET /api/models?search=Q&limit=N&sort=downloads`, as the Hub answers it: repos whose id contains Q (case-
   * insensitive), most downloaded first, with `id`, `downloads`, `likes` (0: the mirror has no users) and
   * `lastModified` (newest file); `usedStorage` (bytes of all files) stands in for the size the Hub gives on request.
   */
  function serveSearch(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const q = (query.get('search') ?? '').toLowerCase();
    const limit = Math.max(1, Math.min(1000, Number(query.get('limit') ?? 1000) || 1000));
    const hits = modelIds()
      .filter((id) => id.toLowerCase().includes(q) && opts.gated?.[id] === undefined)
      .flatMap((id) => {
        const repo = repoFor('model', id);
        if (!repo) return [];
        const mtime = Math.max(...listFiles(repo.dir).map((f) => statSync(f).mtimeMs));
        const usedStorage = [...repo.files.values()].reduce((n, f) => n + f.size, 0);
        return [{ _id: repo.sha.slice(0, 24), id, modelId: id, downloads: downloads.get(id) ?? 0, likes: 0, lastModified: new Date(mtime).toISOString(), private: false, usedStorage }];
      });
    if (query.get('sort') === 'downloads') hits.sort((a, b) => b.downloads - a.downloads || a.id.localeCompare(b.id));
    sendJson(req, res, hits.slice(0, limit));
  }

  /** `GET /api/models/{repo}/refs`: the mirror's repos have one branch, main, at their content commit, and no tags. */
  function serveRefs(req: IncomingMessage, res: ServerResponse, type: RepoType, id: string): void {
    if (denied(req, res, id)) return;
    const repo = pick(res, type, id, 'main');
    if (!repo) return;
    sendJson(req, res, { branches: [{ name: 'main', ref: 'refs/heads/main', targetCommit: repo.sha }], converts: [], tags: [] });
  }

  function repoFor(type: RepoType, id: string): Repo | undefined {
    const key = `${type}:${id}`;
    if (!repos.has(key)) {
      const recorded = root === HUB_DIR && type === 'model' ? manifestHashes(id) : undefined;
      repos.set(key, loadRepo(type === 'dataset' ? join(root, 'datasets', id) : join(root, id), recorded));
    }
    return repos.get(key);
  }

  function fail(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { ...CORS_HEADERS, 'Content-Type': 'application/json', 'X-Error-Code': code, 'X-Error-Message': message });
    res.end(JSON.stringify({ error: message }));
  }

  /** Gated repos answer like the Hub: 401 without a token, 403 with one that does not grant access. */
  function denied(req: IncomingMessage, res: ServerResponse, id: string): boolean {
    const token = opts.gated?.[id];
    if (token === undefined) return false;
    const auth = req.headers.authorization;
    if (!auth) fail(res, 401, 'GatedRepo', `Access to ${id} is restricted. You must be authenticated to access it.`);
    else if (auth !== `Bearer ${token}`) fail(res, 403, 'GatedRepo', `Access to ${id} is restricted and you are not in the authorized list.`);
    else return false;
    return true;
  }

  function pick(res: ServerResponse, type: RepoType, id: string, rev: string): Repo | undefined {
    const repo = repoFor(type, id);
    if (!repo) {
      fail(res, 404, 'RepoNotFound', `Repository not found: ${id}`);
      return undefined;
    }
    if (rev !== 'main' && rev !== repo.sha) {
      fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      return undefined;
    }
    return repo;
  }

  function serveApi(req: IncomingMessage, res: ServerResponse, type: RepoType, id: string, rev: string): void {
    if (denied(req, res, id)) return;
    const repo = pick(res, type, id, rev);
    if (!repo) return;
    const body = JSON.stringify(revisionInfo(id, type, repo.sha, [...repo.files.values()], repo.config));
    res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, type: RepoType, id: string, rev: string, path: string): void {
    if (denied(req, res, id)) return;
    const repo = pick(res, type, id, rev);
    if (!repo) return;
    // The Hub counts a model download per GET of its config.json; so does the mirror, for search's `downloads`.
    if (type === 'model' && path === 'config.json' && req.method === 'GET') downloads.set(id, (downloads.get(id) ?? 0) + 1);
    const file = repo.files.get(path);
    if (!file) {
      fail(res, 404, 'EntryNotFound', `${path} does not exist on "${rev}"`);
      return;
    }
    const headers: Record<string, string | number> = {
      ...CORS_HEADERS,
      'Accept-Ranges': 'bytes',
      'Content-Type': contentType(path),
      ETag: `"${file.lfs ? file.sha256 : file.blobId}"`,
      'X-Repo-Commit': repo.sha,
    };
    if (file.lfs) {
      headers['X-Linked-Etag'] = `"${file.sha256}"`;
      headers['X-Linked-Size'] = file.size;
    }
    const range = req.headers.range ? parseRange(req.headers.range, file.size) : undefined;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${file.size}` });
      res.end();
      return;
    }
    const [start, end] = range ?? [0, file.size - 1];
    const length = file.size === 0 ? 0 : end - start + 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${file.size}`;
    headers['Content-Length'] = length;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    createReadStream(join(repo.dir, ...path.split('/')), { start, end }).pipe(res);
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    // Split the raw path: new URL() would silently resolve "..", hiding traversal attempts from the check below.
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    let parts: string[];
    try {
      parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      fail(res, 400, 'BadPath', 'malformed percent-encoding in the path');
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS_HEADERS, 'Access-Control-Max-Age': '600' });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(res, 405, 'MethodNotAllowed', `${req.method} is not supported by the mirror`);
      return;
    }
    if (parts.some((p) => p === '..' || p === '.' || p.includes('\\'))) {
      fail(res, 400, 'BadPath', 'path segments "." and ".." are not allowed');
      return;
    }
    // /api/models?search=…
    if (parts[0] === 'api' && parts[1] === 'models' && parts.length === 2) {
      return serveSearch(req, res, new URLSearchParams((req.url ?? '').split('?')[1] ?? ''));
    }
    // /api/{models|datasets}/{org}/{repo}[/revision/{rev} | /refs]
    if (parts[0] === 'api' && (parts[1] === 'models' || parts[1] === 'datasets') && parts.length >= 4) {
      const type: RepoType = parts[1] === 'datasets' ? 'dataset' : 'model';
      const id = `${parts[2]}/${parts[3]}`;
      if (parts.length === 4) return serveApi(req, res, type, id, 'main');
      if (parts[4] === 'refs' && parts.length === 5) return serveRefs(req, res, type, id);
      if (parts[4] === 'revision' && parts.length >= 6) return serveApi(req, res, type, id, parts.slice(5).join('/'));
    }
    // /[datasets/]{org}/{repo}/resolve/{rev}/{file…}
    const offset = parts[0] === 'datasets' ? 1 : 0;
    if (parts[offset + 2] === 'resolve' && parts.length >= offset + 5) {
      const type: RepoType = offset ? 'dataset' : 'model';
      return serveFile(req, res, type, `${parts[offset]}/${parts[offset + 1]}`, parts[offset + 3] ?? '', parts.slice(offset + 4).join('/'));
    }
    fail(res, 404, 'NotFound', `no Hub route for ${pathname}`);
  }

  const handlers = (opts.extensions ?? []).map((make) => make({ root, invalidate: () => repos.clear() }));
  const server = createServer((req, res) => {
    res.on('finish', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, ...(req.headers.range ? { range: req.headers.range } : {}) });
    });
    try {
      if (!handlers.some((handle) => handle(req, res))) route(req, res);
    } catch (e) {
      if (!res.headersSent) fail(res, 500, 'MirrorError', (e as Error).message);
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    }),
  };
}
