// Hub client: repo references, revision pinning (`/api/{models|datasets}/{repo}/revision/{rev}`) and file fetches
// (`/{repo}/resolve/{sha}/{file}`) with Range, progress, abort, caching and size/sha256 verification. The same code
// runs in the browser, the worker, the Node CLI and the tests; only the endpoint changes.
import { defaultFileCache, type FileCache } from './cache.ts';
import { resolveUrl, revisionApiUrl, type HubConfig, type RepoType } from './endpoint.ts';
import { HubError, httpError, networkError } from './errors.ts';

export interface RepoRef {
  repo: string;
  revision: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `org/name@rev` → `{repo, revision}`; the revision defaults to `main`. A bare `name` (legacy ids like gpt2) is kept. */
export function parseRepoRef(ref: string): RepoRef {
  const text = ref.trim();
  const at = text.indexOf('@');
  const repo = at >= 0 ? text.slice(0, at) : text;
  const revision = at >= 0 ? text.slice(at + 1) : 'main';
  const parts = repo.split('/');
  if (parts.length > 2 || !parts.every((p) => NAME.test(p) && !p.includes('..'))) {
    throw new Error(`"${ref}" is not a Hub repo id. HINT: write it as org/name or org/name@revision, e.g. Qwen/Qwen3-0.6B@main`);
  }
  if (!revision) throw new Error(`"${ref}" has an empty revision after "@". HINT: use a branch, tag or commit sha, e.g. ${repo}@main`);
  return { repo, revision };
}

export interface RepoFile {
  path: string;
  size: number;
  /** Git blob id, when the endpoint lists it. */
  blobId?: string;
  /** Present for files stored with Git LFS; the Hub gives their sha256. */
  lfs?: { sha256: string };
}

export interface ResolvedRevision {
  repo: string;
  repoType: RepoType;
  /** The revision that was asked for (branch, tag or sha). */
  revision: string;
  /** The commit sha it resolved to: every later fetch uses this, so a run is pinned. */
  sha: string;
  files: RepoFile[];
}

export interface RequestOptions {
  repoType?: RepoType;
  signal?: AbortSignal;
}

/** Names a file for messages. Exported for src/hub/stream.ts only (not in index.ts). */
export function describe(repo: string, revision: string, repoType: RepoType, path?: string): string {
  const what = `${repoType === 'dataset' ? 'dataset' : 'repo'} ${repo} at revision ${revision}`;
  return path ? `${path} in ${what}` : what;
}

/** One GET with auth, a retry and Hub error mapping. Exported for src/hub/stream.ts only (not in index.ts). */
export async function request(cfg: HubConfig, url: string, what: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  if (cfg.token) headers.set('Authorization', `Bearer ${cfg.token}`);
  // An idempotent GET/HEAD is retried once after a network error: a keep-alive socket the server closed while this
  // thread was busy (e.g. running a graph) is reused by fetch and fails with ECONNRESET; a second try opens a new one.
  const method = (init.method ?? 'GET').toUpperCase();
  const attempts = method === 'GET' || method === 'HEAD' ? 2 : 1;
  let res: Response | undefined;
  for (let attempt = 1; res === undefined; attempt++) {
    try {
      res = await fetch(url, { ...init, headers });
    } catch (e) {
      if (init.signal?.aborted) throw new HubError('aborted', `${what}: download cancelled`, url);
      if (attempt >= attempts) throw networkError(url, what, cfg.endpoint, e);
    }
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw httpError(res.status, url, what, cfg.endpoint, res.headers.get('X-Error-Code'));
  }
  return res;
}

/** Resolves a branch, tag or sha to a commit sha and the file list (with sizes and LFS sha256s). */
export async function resolveRevision(cfg: HubConfig, repo: string, revision = 'main', opts: RequestOptions = {}): Promise<ResolvedRevision> {
  const repoType = opts.repoType ?? 'model';
  const url = revisionApiUrl(cfg, repo, revision, repoType);
  const what = describe(repo, revision, repoType);
  const res = await request(cfg, url, what, { signal: opts.signal });
  let body: unknown;
  try {
    body = JSON.parse(await res.text());
  } catch {
    throw new HubError('bad-response', `${what}: the revision API at ${url} did not return JSON. HINT: is ${cfg.endpoint} a Hub endpoint?`, url);
  }
  const { sha, siblings } = (body ?? {}) as { sha?: unknown; siblings?: unknown };
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha) || !Array.isArray(siblings)) {
    throw new HubError('bad-response', `${what}: the revision API answer lacks a 40-hex "sha" or a "siblings" list (${url}).`, url);
  }
  const files = siblings.map((s: unknown): RepoFile => {
    const { rfilename, size, blobId, lfs } = (s ?? {}) as { rfilename?: unknown; size?: unknown; blobId?: unknown; lfs?: { sha256?: unknown; oid?: unknown } };
    if (typeof rfilename !== 'string' || typeof size !== 'number') {
      throw new HubError('bad-response', `${what}: a file entry lacks rfilename or size (${url}); the endpoint must honour ?blobs=true.`, url);
    }
    // Every later read checks its bytes against this size, so it must be a byte count a file can have.
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new HubError('bad-response', `${what}: the listing gives ${rfilename.slice(0, 120)} a size of ${size}, which is not a byte count (${url}). HINT: is ${cfg.endpoint} a Hub endpoint?`, url);
    }
    const file: RepoFile = { path: rfilename, size };
    if (typeof blobId === 'string') file.blobId = blobId;
    const lfsSha = lfs?.sha256 ?? lfs?.oid;
    if (typeof lfsSha === 'string') file.lfs = { sha256: lfsSha };
    return file;
  });
  return { repo, repoType, revision, sha, files };
}

export interface FetchOptions extends RequestOptions {
  /** Half-open byte range [start, end). Served from the cached whole file when there is one. */
  range?: [number, number];
  /** Called as bytes arrive; `total` is undefined when the server does not say. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Verify the whole file against these (from the revision listing); a mismatch is an error, never cached. */
  expected?: { size?: number; sha256?: string };
  /** Defaults to the Cache API in browsers and no cache in Node (see defaultFileCache). `null` disables caching. */
  cache?: FileCache | null;
}

let sharedCache: FileCache | null | undefined;
/** The cache a fetch uses. Exported for src/hub/stream.ts only (not in index.ts). */
export function cacheFor(opts: FetchOptions): FileCache | null {
  if (opts.cache !== undefined) return opts.cache;
  if (sharedCache === undefined) sharedCache = defaultFileCache();
  return sharedCache;
}

/** Fetches a file (or a byte range of it) at a pinned revision. */
export async function fetchFile(cfg: HubConfig, repo: string, sha: string, path: string, opts: FetchOptions = {}): Promise<Uint8Array> {
  const repoType = opts.repoType ?? 'model';
  const url = resolveUrl(cfg, repo, sha, path, repoType);
  const what = describe(repo, sha, repoType, path);
  const cache = cacheFor(opts);
  if (opts.range) {
    const [start, end] = opts.range;
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start)) {
      throw new Error(`${what}: bad byte range [${start}, ${end}); it must be half-open with 0 <= start <= end`);
    }
    const hit = cache ? await cache.getRange(url, start, end) : undefined;
    if (hit) {
      if (hit.byteLength === end - start) return hit;
      throw new HubError('integrity', `${what}: asked for bytes [${start}, ${end}) of the cached file, which has only ${start + hit.byteLength}. HINT: the revision lists a larger file; clear the site's cache.`, url);
    }
    if (end === start) return new Uint8Array(0);
    const res = await request(cfg, url, what, { signal: opts.signal, headers: { Range: `bytes=${start}-${end - 1}` } });
    // A server that ignores Range answers 200 with the whole file: read only up to `end`, then hang up.
    const whole = res.status !== 206;
    const bytes = await readBody(res, url, what, opts, whole ? end : undefined);
    const part = whole ? bytes.slice(start, end) : bytes;
    if (part.byteLength !== end - start) {
      throw new HubError('integrity', `${what}: asked for bytes [${start}, ${end}) and got ${part.byteLength} bytes. HINT: the file is shorter than expected; check the revision.`, url);
    }
    return part;
  }
  const cached = cache ? await cache.get(url) : undefined;
  if (cached) {
    opts.onProgress?.(cached.byteLength, cached.byteLength);
    return cached;
  }
  const res = await request(cfg, url, what, { signal: opts.signal });
  const bytes = await readBody(res, url, what, opts);
  await verify(bytes, url, what, opts.expected);
  await cache?.put(url, bytes);
  return bytes;
}

/** Largest body preallocated from its Content-Length; larger ones are assembled from the chunks received. */
const PREALLOCATE_MAX = 256 * 1024 * 1024;

/** Reads a response body with progress; with `stopAfter`, cancels the download once that many bytes arrived. */
async function readBody(res: Response, url: string, what: string, opts: FetchOptions, stopAfter?: number): Promise<Uint8Array> {
  const lengthHeader = res.headers.get('Content-Length');
  const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) && stopAfter === undefined ? Number(lengthHeader) : undefined;
  // Content-Length is only a hint: it counts the encoded bytes when the server compresses (and a browser may not say
  // whether it did), so the body can be longer. The listing's size is the file's, and the body may not pass it.
  const listed = stopAfter === undefined ? opts.expected?.size : undefined;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  // Preallocate when the length is known so a large download is not held twice, but only up to PREALLOCATE_MAX (and
  // never past the listing): a header is a claim, and a larger body is gathered from the chunks that really arrive.
  const chunks: Uint8Array[] = [];
  const limit = listed;
  let buffer = total !== undefined && total <= PREALLOCATE_MAX && (listed === undefined || total <= listed) ? new Uint8Array(total) : undefined;
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (buffer && loaded + value.byteLength <= buffer.byteLength) buffer.set(value, loaded);
      else {
        if (buffer) chunks.push(buffer.subarray(0, loaded));
        buffer = undefined;
        chunks.push(value);
      }
      loaded += value.byteLength;
      if (limit !== undefined && loaded > limit) {
        await reader.cancel().catch(() => undefined);
        throw new HubError('integrity', `${what}: received more than the ${limit} bytes the revision lists. HINT: the mirror is stale or the file changed; retry.`, url);
      }
      opts.onProgress?.(loaded, total);
      if (stopAfter !== undefined && loaded >= stopAfter) {
        await reader.cancel();
        break;
      }
    }
  } catch (e) {
    if (e instanceof HubError) throw e;
    if (opts.signal?.aborted) throw new HubError('aborted', `${what}: download cancelled`, url);
    throw new HubError('network', `${what}: the connection broke after ${loaded} bytes (${(e as Error).message}). HINT: retry; cached files are not re-downloaded.`, url);
  }
  if (buffer) {
    if (loaded !== buffer.byteLength) {
      throw new HubError('integrity', `${what}: received ${loaded} bytes but Content-Length said ${buffer.byteLength}. HINT: the download was cut short; retry.`, url);
    }
    return buffer;
  }
  const out = new Uint8Array(loaded);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

/** SHA-256 hex of bytes, or undefined where WebCrypto is unavailable (plain-http pages on a LAN address). */
export async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function verify(bytes: Uint8Array, url: string, what: string, expected: FetchOptions['expected']): Promise<void> {
  if (!expected) return;
  if (expected.size !== undefined && bytes.byteLength !== expected.size) {
    throw new HubError('integrity', `${what}: got ${bytes.byteLength} bytes, the revision lists ${expected.size}. HINT: the download was cut short or the mirror is stale; retry.`, url);
  }
  if (expected.sha256) {
    const actual = await sha256Hex(bytes);
    if (actual !== undefined && actual !== expected.sha256) {
      throw new HubError('integrity', `${what}: sha256 ${actual} differs from the listed ${expected.sha256}. HINT: the file is corrupt; retry the download.`, url);
    }
  }
}

/** Looks a path up in a resolved revision, with an error naming what the repo does have. */
export function findFile(resolved: ResolvedRevision, path: string): RepoFile {
  const file = resolved.files.find((f) => f.path === path);
  if (!file) {
    const names = resolved.files.map((f) => f.path).sort().join(', ');
    throw new HubError('not-found', `${describe(resolved.repo, resolved.sha, resolved.repoType, path)}: no such file. The repo has: ${names}. `
      + 'HINT: pick a repo that ships this file.', path);
  }
  return file;
}

/** Fetches a file listed in a resolved revision, verified against the listing's size and sha256. */
export async function fetchResolvedFile(cfg: HubConfig, resolved: ResolvedRevision, path: string, opts: FetchOptions = {}): Promise<Uint8Array> {
  const file = findFile(resolved, path);
  const expected = file.lfs ? { size: file.size, sha256: file.lfs.sha256 } : { size: file.size };
  return fetchFile(cfg, resolved.repo, resolved.sha, path, { repoType: resolved.repoType, expected, ...opts });
}

/** Fetches and parses a JSON file (config.json, tokenizer_config.json, …). */
export async function fetchJson<T = unknown>(cfg: HubConfig, repo: string, sha: string, path: string, opts: FetchOptions = {}): Promise<T> {
  const bytes = await fetchFile(cfg, repo, sha, path, opts);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new HubError('bad-response', `${describe(repo, sha, opts.repoType ?? 'model', path)}: not valid JSON (${(e as Error).message}).`, resolveUrl(cfg, repo, sha, path, opts.repoType));
  }
}
