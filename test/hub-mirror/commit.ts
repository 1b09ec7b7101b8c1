// The Hub's write API for the local mirror, as @huggingface/hub calls it: create a repo, preupload (which files go
// to LFS), the LFS batch API with "basic" transfers (PUT to the mirror, checked against the sha256 oid), and the
// NDJSON commit. Commits write into the same folder layout the read-only mirror (server.ts) serves, so a pushed
// repo can be read back through it. Writes need `Authorization: Bearer <token>` for a token allowed on the
// namespace; tokens are never logged. Mount with `commitRoutes(...).handle` first in a server's request handler,
// or run it alone with startCommitServer.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, sep } from 'node:path';
import { commitSha, describeFile } from '../../scripts/fixtures/repo-info.ts';

export interface CommitRoutesOptions {
  /** Repos folder, laid out as the mirror serves it ({root}/{org}/{repo}, {root}/datasets/{org}/{repo}). */
  root: string;
  /** Access tokens → the namespaces each may write ('*' for any). */
  tokens: Record<string, readonly string[]>;
  /** Called after every change, so a mirror sharing `root` can drop what it cached. */
  onChange?: (repoType: 'model' | 'dataset', id: string) => void;
}

interface CommitRecord {
  repo: string;
  summary: string;
  files: string[];
  deleted: string[];
  oid: string;
  /** Files that came through the LFS batch API rather than inline in the commit. */
  lfs: string[];
}

interface CommitRoutes {
  /** Handles the request when it is one of the write endpoints (or their CORS preflight); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  commits: CommitRecord[];
}

const MAX_BODY = 256 * 1024 * 1024;
const LFS_MIN_BYTES = 10 * 1024 * 1024;
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, X-Request-Id',
  'Access-Control-Expose-Headers': 'ETag, X-Error-Code, X-Error-Message',
};

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new HttpError(413, 'TooLarge', `request body over ${MAX_BODY} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CORS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function safePath(path: string): string {
  const parts = path.split('/');
  if (!path || path.startsWith('/') || path.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new HttpError(400, 'BadPath', `invalid file path ${JSON.stringify(path)}`);
  }
  return path;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function repoSha(dir: string): string {
  return commitSha(listFiles(dir).map((f) => describeFile(relative(dir, f).split(sep).join('/'), readFileSync(f))));
}

function exists(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function commitRoutes(opts: CommitRoutesOptions): CommitRoutes {
  const commits: CommitRecord[] = [];
  /** LFS objects uploaded but not yet committed, by sha256. */
  const lfsObjects = new Map<string, Buffer>();

  const repoDir = (type: 'model' | 'dataset', id: string) => (type === 'dataset' ? join(opts.root, 'datasets', ...id.split('/')) : join(opts.root, ...id.split('/')));

  function authorize(req: IncomingMessage, namespace: string): void {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) throw new HttpError(401, 'Unauthorized', 'Invalid credentials in Authorization header');
    const allowed = opts.tokens[auth.slice('Bearer '.length)];
    if (!allowed) throw new HttpError(401, 'Unauthorized', 'Invalid credentials in Authorization header');
    if (!allowed.includes('*') && !allowed.includes(namespace)) throw new HttpError(403, 'Forbidden', `You don't have the rights to create or write to ${namespace}/…`);
  }

  function existing(type: 'model' | 'dataset', id: string): string {
    const dir = repoDir(type, id);
    if (!exists(dir)) throw new HttpError(404, 'RepoNotFound', `Repository not found: ${id}`);
    return dir;
  }

  async function createRepo(req: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
    const body = JSON.parse((await readBody(req)).toString('utf8')) as { name?: string; organization?: string; type?: string; files?: { path: string; content: string }[] };
    const { name, organization } = body;
    if (!name || !organization || !/^[\w.-]+$/.test(name) || !/^[\w.-]+$/.test(organization)) throw new HttpError(400, 'BadRequest', 'name and organization are required');
    authorize(req, organization);
    const type = body.type === 'dataset' ? 'dataset' : 'model';
    if (body.type && body.type !== 'model' && body.type !== 'dataset') throw new HttpError(400, 'BadRequest', `repo type ${body.type} is not supported by the mirror`);
    const id = `${organization}/${name}`;
    const dir = repoDir(type, id);
    const url = `${base}${type === 'dataset' ? '/datasets' : ''}/${id}`;
    if (exists(dir)) {
      json(res, 409, { error: `You already created this ${type} repo`, url });
      return;
    }
    mkdirSync(dir, { recursive: true });
    for (const f of body.files ?? []) writeFileSync(join(dir, ...safePath(f.path).split('/')), Buffer.from(f.content, 'base64'));
    opts.onChange?.(type, id);
    json(res, 200, { url, name: id, id });
  }

  async function preupload(req: IncomingMessage, res: ServerResponse, type: 'model' | 'dataset', id: string): Promise<void> {
    authorize(req, id.split('/')[0]!);
    existing(type, id);
    const body = JSON.parse((await readBody(req)).toString('utf8')) as { files: { path: string; size: number }[] };
    // The same rule the fixture generator and the read side use: binary extensions and big files go to LFS.
    const files = body.files.map((f) => ({ path: f.path, uploadMode: describeFile(safePath(f.path), new Uint8Array(0)).lfs || f.size >= LFS_MIN_BYTES ? 'lfs' : 'regular' }));
    json(res, 200, { files, commitOid: repoSha(repoDir(type, id)) });
  }

  async function lfsBatch(req: IncomingMessage, res: ServerResponse, type: 'model' | 'dataset', id: string, base: string): Promise<void> {
    authorize(req, id.split('/')[0]!);
    existing(type, id);
    const body = JSON.parse((await readBody(req)).toString('utf8')) as { operation: string; transfers?: string[]; objects: { oid: string; size: number }[] };
    if (body.operation !== 'upload') throw new HttpError(400, 'BadRequest', 'the mirror accepts LFS uploads only');
    if (body.transfers && !body.transfers.includes('basic')) throw new HttpError(400, 'BadRequest', 'the mirror supports the "basic" LFS transfer only');
    const objects = body.objects.map((o) => {
      if (!/^[0-9a-f]{64}$/.test(o.oid)) return { oid: o.oid, size: o.size, error: { code: 422, message: 'oid must be a sha256' } };
      if (lfsObjects.has(o.oid)) return { oid: o.oid, size: o.size };
      return { oid: o.oid, size: o.size, authenticated: true, actions: { upload: { href: `${base}/__lfs/upload/${o.oid}?size=${o.size}` } } };
    });
    json(res, 200, { transfer: 'basic', objects }, 'application/vnd.git-lfs+json');
  }

  async function lfsUpload(req: IncomingMessage, res: ServerResponse, oid: string, size: number): Promise<void> {
    const bytes = await readBody(req);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== oid || bytes.length !== size) throw new HttpError(400, 'BadObject', `uploaded bytes hash to ${sha} (${bytes.length} bytes), not ${oid} (${size} bytes)`);
    lfsObjects.set(oid, bytes);
    res.writeHead(200, { ...CORS, ETag: `"${oid}"` });
    res.end();
  }

  async function commit(req: IncomingMessage, res: ServerResponse, type: 'model' | 'dataset', id: string, rev: string, base: string): Promise<void> {
    authorize(req, id.split('/')[0]!);
    const dir = existing(type, id);
    if (rev !== 'main') throw new HttpError(404, 'RevisionNotFound', `Invalid rev id: ${rev} (the mirror has only main)`);
    const lines = (await readBody(req)).toString('utf8').split('\n').filter((l) => l.trim());
    const ops = lines.map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
    const header = ops.find((o) => o.key === 'header')?.value as { summary?: string; parentCommit?: string } | undefined;
    if (!header?.summary) throw new HttpError(400, 'BadRequest', 'the commit needs a header line with a summary');
    if (header.parentCommit && header.parentCommit !== repoSha(dir)) throw new HttpError(412, 'ParentMismatch', 'A commit has happened since. Please refresh and try again.');
    // Validate everything before touching the folder, so a bad commit changes nothing.
    const writes: [string, Buffer][] = [];
    const deletes: string[] = [];
    const lfs: string[] = [];
    for (const op of ops) {
      if (op.key === 'header') continue;
      const path = safePath(String(op.value['path']));
      if (op.key === 'file') {
        if (op.value['encoding'] !== 'base64') throw new HttpError(400, 'BadRequest', `${path}: only base64 content is supported`);
        writes.push([path, Buffer.from(String(op.value['content']), 'base64')]);
      } else if (op.key === 'lfsFile') {
        const bytes = lfsObjects.get(String(op.value['oid']));
        if (!bytes) throw new HttpError(422, 'LfsObjectMissing', `${path}: LFS object ${String(op.value['oid'])} was never uploaded`);
        writes.push([path, bytes]);
        lfs.push(path);
      } else if (op.key === 'deletedFile') {
        deletes.push(path);
      } else {
        throw new HttpError(400, 'BadRequest', `unknown commit operation ${op.key}`);
      }
    }
    for (const [path, bytes] of writes) {
      const full = join(dir, ...path.split('/'));
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, bytes);
    }
    for (const path of deletes) rmSync(join(dir, ...path.split('/')), { force: true });
    const oid = repoSha(dir);
    commits.push({ repo: id, summary: header.summary, files: writes.map(([p]) => p), deleted: deletes, oid, lfs });
    opts.onChange?.(type, id);
    json(res, 200, { success: true, commitOid: oid, commitUrl: `${base}${type === 'dataset' ? '/datasets' : ''}/${id}/commit/${oid}`, hookOutput: '' });
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const base = `http://${req.headers.host ?? '127.0.0.1'}`;
    let action: (() => Promise<void>) | undefined;
    const apiType = parts[1] === 'datasets' ? 'dataset' : 'model';
    if (parts[0] === 'api' && parts[1] === 'repos' && parts[2] === 'create' && parts.length === 3) {
      action = () => createRepo(req, res, base);
    } else if (parts[0] === 'api' && (parts[1] === 'models' || parts[1] === 'datasets') && parts.length >= 6 && (parts[4] === 'preupload' || parts[4] === 'commit')) {
      const id = `${parts[2]}/${parts[3]}`;
      const rev = parts.slice(5).join('/');
      action = parts[4] === 'preupload' ? () => preupload(req, res, apiType, id) : () => commit(req, res, apiType, id, rev, base);
    } else if (parts.length >= 5 && parts.at(-4) === 'info' && parts.at(-3) === 'lfs' && parts.at(-2) === 'objects' && parts.at(-1) === 'batch') {
      const dataset = parts[0] === 'datasets';
      const repoParts = parts.slice(dataset ? 1 : 0, -4);
      const last = repoParts.at(-1) ?? '';
      if (repoParts.length === 2 && last.endsWith('.git')) {
        const id = `${repoParts[0]}/${last.slice(0, -4)}`;
        action = () => lfsBatch(req, res, dataset ? 'dataset' : 'model', id, base);
      }
    } else if (parts[0] === '__lfs' && parts[1] === 'upload' && parts.length === 3) {
      action = () => lfsUpload(req, res, parts[2]!, Number(query.get('size')));
    }
    if (!action) return false;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'Access-Control-Max-Age': '600' });
      res.end();
      return true;
    }
    const expected = parts[0] === '__lfs' ? 'PUT' : 'POST';
    if (req.method !== expected) {
      json(res, 405, { error: `${req.method} is not supported here; use ${expected}` });
      return true;
    }
    action().catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      const status = e instanceof HttpError ? e.status : e instanceof SyntaxError ? 400 : 500;
      const code = e instanceof HttpError ? e.code : 'MirrorError';
      res.setHeader('X-Error-Code', code);
      json(res, status, { error: (e as Error).message });
    });
    return true;
  }

  return { handle, commits };
}

export interface CommitServer {
  url: string;
  commits: CommitRecord[];
  close(): Promise<void>;
}

/** The write API on its own port (the read side stays with startMirror on the same root). */
export async function startCommitServer(opts: CommitRoutesOptions): Promise<CommitServer> {
  const routes = commitRoutes(opts);
  const server = createServer((req, res) => {
    if (!routes.handle(req, res)) json(res, 404, { error: `no Hub write route for ${req.method} ${req.url}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    commits: routes.commits,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    }),
  };
}
