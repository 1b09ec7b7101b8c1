// File cache for immutable Hub content (a file at a commit sha never changes): an in-memory cache for Node and
// tests, and a Cache-API cache used in browsers (and workers) when `caches` exists.

export interface FileCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

export class MemoryFileCache implements FileCache {
  private readonly entries = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.entries.get(key);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
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

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const cache = await this.storage.open(this.name);
    const body = new Uint8Array(bytes); // a copy: the Response must not alias memory the caller may transfer away
    await cache.put(key, new Response(body, { headers: { 'Content-Length': String(bytes.byteLength) } }));
  }

  async delete(key: string): Promise<void> {
    const cache = await this.storage.open(this.name);
    await cache.delete(key);
  }
}

/** The Cache API where the platform has it (browsers, workers), memory otherwise (Node). */
export function defaultFileCache(): FileCache {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  return storage ? new CacheApiFileCache(storage) : new MemoryFileCache();
}
