// `hub.search` and `hub.refs` for the Model panel: the Hub's model search (`/api/models?search=Q&limit=N&sort=
// downloads`) and a repo's branches and tags (`/api/models/{repo}/refs`), read from the configured endpoint and
// turned into plain data. Fields an endpoint leaves out become null rather than made-up values.
import { hubConfig } from '../../train/sources.ts';
import type { HubModelHit, HubRefs } from '../protocol';
import type { HandlerContext } from './context';

type Json = Record<string, unknown>;

async function getJson(url: string, what: string, ctx: HandlerContext): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: ctx.signal, headers: { Accept: 'application/json' } });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new Error(`${what}: could not reach ${new URL(url).origin} (${(err as Error).message}). Check the Hub endpoint setting and your connection.`, { cause: err });
  }
  if (!res.ok) {
    const detail = res.headers.get('X-Error-Message');
    throw new Error(`${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''} from ${url}. ${res.status === 404 ? 'Check the repository id.' : 'Try again later.'}`);
  }
  return res.json();
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One search result as the Hub spells it (`id`, or the older `modelId`); the size is `usedStorage` when present. */
export function toHit(raw: unknown): HubModelHit | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Json;
  const id = typeof r.id === 'string' ? r.id : typeof r.modelId === 'string' ? r.modelId : null;
  if (!id) return null;
  return {
    id,
    downloads: numOrNull(r.downloads),
    likes: numOrNull(r.likes),
    lastModified: typeof r.lastModified === 'string' ? r.lastModified : null,
    sizeBytes: numOrNull(r.usedStorage),
  };
}

export async function searchModels(endpoint: string, query: string, limit: number, ctx: HandlerContext): Promise<HubModelHit[]> {
  const q = query.trim();
  if (q === '') return [];
  const cfg = hubConfig(endpoint);
  const params = new URLSearchParams({ search: q, limit: String(Math.max(1, Math.min(100, Math.floor(limit)))), sort: 'downloads' });
  const body = await getJson(`${cfg.endpoint}/api/models?${params}`, `Searching ${cfg.endpoint} for "${q}"`, ctx);
  if (!Array.isArray(body)) throw new Error(`The model search of ${cfg.endpoint} did not answer with a list; is the Hub endpoint right?`);
  return body.map(toHit).filter((h): h is HubModelHit => h !== null);
}

function refList(value: unknown): { name: string; sha: string }[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v) => {
    const r = v as Json;
    return typeof r.name === 'string' && typeof r.targetCommit === 'string' ? [{ name: r.name, sha: r.targetCommit }] : [];
  });
}

export async function repoRefs(endpoint: string, repo: string, ctx: HandlerContext): Promise<HubRefs> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo) || repo.split('/').some((p) => p === '.' || p === '..')) throw new Error(`"${repo}" is not a repository id; write it as org/name.`);
  const cfg = hubConfig(endpoint);
  const body = (await getJson(`${cfg.endpoint}/api/models/${repo}/refs`, `Listing the branches and tags of ${repo}`, ctx)) as Json;
  return { branches: refList(body.branches), tags: refList(body.tags) };
}
