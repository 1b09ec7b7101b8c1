// File cache for immutable Hub content (a file at a commit sha never changes): a Cache-API cache used in browsers
// and workers when `caches` exists, and an in-memory cache for Node callers and tests that ask for one.

export interface FileCache {
  get(key: string): Promise<Uint8Array | undefined>;
  /** Bytes [start, end) of a cached file without materialising all of it, or undefined when not cached. */
  getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /**
   * Stores a file whose bytes arrive as a stream (a checkpoint converted as it downloads, never whole in memory).
   * Resolves once stored; a body that errors (size or sha256 mismatch) must reject and store nothing.
   */
  putStream?(key: string, body: ReadableStream<Uint8Array>, size: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export class MemoryFileCache implements FileCache {
  private readonly entries = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.entries.get(key);
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    return this.entries.get(key)?.slice(start, end);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.entries.set(key, bytes);
  }

  async putStream(key: string, body: ReadableStream<Uint8Array>, size: number): Promise<void> {
    // Gathered from the chunks that arrive, not preallocated from `size`, which is only announced.
    const chunks: Uint8Array[] = [];
    let at = 0;
    const reader = body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      if (at + r.value.byteLength > size) throw new Error(`${key}: more than the announced ${size} bytes`);
      chunks.push(r.value);
      at += r.value.byteLength;
    }
    if (at !== size) throw new Error(`${key}: ${at} bytes stored, ${size} announced`);
    const bytes = new Uint8Array(size);
    at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    this.entries.set(key, bytes);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Stores files as Responses keyed by their resolve URL (keys must be http(s) URLs). */
export class CacheApiFileCache implements FileCache {
  constructor(private readonly storage: CacheStorage, private readonly name = 'tabtune-hub-v1') {}

  async get(key: string): Promise<Uint8Array | undefined> {
    const cache = await this.storage.open(this.name);
    const hit = await cache.match(key);
    return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    const cache = await this.storage.open(this.name);
    const hit = await cache.match(key);
    // A Blob of a cached response is disk-backed in browsers: slicing it reads only the range (a header probe of a
    // cached 500 MB checkpoint must not load 500 MB).
    return hit ? new Uint8Array(await (await hit.blob()).slice(start, end).arrayBuffer()) : undefined;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const cache = await this.storage.open(this.name);
    // No copy: put() resolves only after the body is stored, so the caller may transfer the buffer afterwards.
    await cache.put(key, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Length': String(bytes.byteLength) } }));
  }

  async putStream(key: string, body: ReadableStream<Uint8Array>, size: number): Promise<void> {
    const cache = await this.storage.open(this.name);
    // Cache.put() reads the body to its end and rejects, storing nothing, when the body errors.
    await cache.put(key, new Response(body as ReadableStream<Uint8Array<ArrayBuffer>>, { headers: { 'Content-Length': String(size) } }));
  }

  async delete(key: string): Promise<void> {
    const cache = await this.storage.open(this.name);
    await cache.delete(key);
  }
}

/**
 * The Cache API where the platform has it (browsers, workers); none elsewhere (Node), because an in-memory cache
 * would keep every downloaded checkpoint alive next to its converted tensors. Pass a MemoryFileCache explicitly
 * where re-reads are expected.
 */
export function defaultFileCache(): FileCache | null {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  return storage ? new CacheApiFileCache(storage) : null;
}

/** Every file a Cache-API cache holds: its key (the resolve URL) and its size in bytes, for the Model panel's list of
 * cached models. `name` is CacheApiFileCache's default. */
export async function listCachedFiles(storage: CacheStorage, name = 'tabtune-hub-v1'): Promise<{ key: string; bytes: number }[]> {
  const cache = await storage.open(name);
  const out: { key: string; bytes: number }[] = [];
  for (const req of await cache.keys()) {
    const hit = await cache.match(req);
    if (!hit) continue;
    // put() records Content-Length; the blob size (disk-backed, not read) covers entries written without it.
    const header = Number(hit.headers.get('Content-Length'));
    out.push({ key: req.url, bytes: Number.isFinite(header) && header > 0 ? header : (await hit.blob()).size });
  }
  return out;
}
