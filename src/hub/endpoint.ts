// Hub endpoint settings: where Hub requests go (like the `HF_ENDPOINT` environment variable of huggingface_hub)
// and the optional access token. Tests and offline users point `endpoint` at a local mirror with the same URL layout.

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface HubConfig {
  /** Base URL without a trailing slash, e.g. https://huggingface.co or http://127.0.0.1:5123 or `${origin}/hub`. */
  endpoint: string;
  /** A Hugging Face access token (hf_…), sent as `Authorization: Bearer`; needed for gated and private repos. */
  token?: string;
}

export type RepoType = 'model' | 'dataset';

/** Builds a config, trimming trailing slashes; an empty endpoint means the public Hub. */
export function hubConfig(endpoint?: string, token?: string): HubConfig {
  const base = (endpoint ?? '').trim().replace(/\/+$/, '') || DEFAULT_HUB_ENDPOINT;
  if (!/^https?:\/\//.test(base)) {
    throw new Error(`Hub endpoint ${JSON.stringify(endpoint)} is not an http(s) URL. HINT: use e.g. ${DEFAULT_HUB_ENDPOINT} or http://127.0.0.1:PORT`);
  }
  return token ? { endpoint: base, token } : { endpoint: base };
}

/** Reads `HF_ENDPOINT` / `HF_TOKEN` from an environment record (Node's process.env in the CLI and tests). */
export function hubConfigFromEnv(env: Record<string, string | undefined>): HubConfig {
  return hubConfig(env.HF_ENDPOINT, env.HF_TOKEN);
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** `/{repo}/resolve/{rev}/{file}` for models, `/datasets/{repo}/resolve/{rev}/{file}` for datasets. */
export function resolveUrl(cfg: HubConfig, repo: string, revision: string, path: string, repoType: RepoType = 'model'): string {
  const prefix = repoType === 'dataset' ? '/datasets' : '';
  return `${cfg.endpoint}${prefix}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
}

/** `/api/models/{repo}/revision/{rev}` (or `/api/datasets/…`); `blobs=true` makes the Hub list sizes and LFS hashes. */
export function revisionApiUrl(cfg: HubConfig, repo: string, revision: string, repoType: RepoType = 'model'): string {
  const kind = repoType === 'dataset' ? 'datasets' : 'models';
  return `${cfg.endpoint}/api/${kind}/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
}
