// Push to the Hub: create (or reuse) a model repo and commit files to it — the PEFT adapter folder and its model card
// — through @huggingface/hub, against the configured endpoint (the public Hub or a local mirror). The access token is
// an argument only: it is never stored, logged, or put in an error message, and it is not read from HubConfig.
import { commitIter, createRepo, HubApiError, type CommitOutput } from '@huggingface/hub';
import { HubError } from './errors.ts';

export interface PushOptions {
  /** Hub base URL, e.g. https://huggingface.co or a local mirror. */
  endpoint: string;
  /** The user's pasted write token (hf_…); used for these requests and then dropped. */
  token: string;
  /** Target model repo, `namespace/name`. */
  repo: string;
  /** Repo-relative path → bytes; e.g. adapter_config.json, adapter_model.safetensors, README.md. */
  files: ReadonlyMap<string, Uint8Array>;
  /** Only used when the repo is created by this push. Default: private, so nothing is published by accident. */
  private?: boolean;
  commitTitle?: string;
  commitDescription?: string;
  signal?: AbortSignal;
  onProgress?: (event: PushProgress) => void;
  /** Injected by tests and by callers that route requests through their own fetch. */
  fetch?: typeof fetch;
}

export type PushProgress =
  | { phase: 'creating-repo' }
  | { phase: 'preuploading' | 'uploadingLargeFiles' | 'committing' }
  | { phase: 'file'; path: string; progress: number; state: 'hashing' | 'uploading' | 'error' };

export interface PushResult {
  repo: string;
  repoUrl: string;
  /** false when the repo already existed and this push added a commit to it. */
  created: boolean;
  commitOid: string;
  commitUrl: string;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

/** Removes the token from any text that might reach the UI or a log. */
function scrub(text: string, token: string): string {
  return token ? text.split(token).join('hf_***') : text;
}

function checkInputs(opts: PushOptions): void {
  if (!REPO_ID.test(opts.repo) || opts.repo.includes('..')) {
    throw new HubError('bad-response', `"${opts.repo}" is not a Hub repo id. HINT: use namespace/name, e.g. your-user/qwen3-lora.`, opts.endpoint);
  }
  if (!/^hf_[A-Za-z0-9]{8,}$/.test(opts.token)) {
    throw new HubError('unauthorized', 'That does not look like a Hugging Face access token (they start with "hf_"). HINT: create a token with write access at huggingface.co/settings/tokens and paste it again.', opts.endpoint);
  }
  if (!opts.files.size) throw new HubError('bad-response', 'Nothing to push: the file list is empty.', opts.endpoint);
  for (const path of opts.files.keys()) {
    if (!path || path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new HubError('bad-response', `Cannot push a file at "${path}": paths are relative, without "." or ".." segments.`, opts.endpoint);
    }
  }
}

/** Turns a failure into a HubError whose message says what to do, with the token scrubbed out. */
function explain(e: unknown, opts: PushOptions, what: string): HubError {
  if (e instanceof HubError) return e;
  if ((e as { name?: string } | null)?.name === 'AbortError') return new HubError('aborted', `${what}: cancelled.`, opts.endpoint);
  if (e instanceof HubApiError) {
    const detail = scrub(e.message, opts.token);
    if (e.statusCode === 401) {
      return new HubError('unauthorized', `${what}: the Hub rejected the token (HTTP 401: ${detail}). HINT: paste a valid token with write access.`, e.url, 401);
    }
    if (e.statusCode === 403) {
      return new HubError('unauthorized', `${what}: this token may not write to ${opts.repo} (HTTP 403: ${detail}). HINT: use a token with write access to the "${opts.repo.split('/')[0]}" namespace, or push to your own namespace.`, e.url, 403);
    }
    if (e.statusCode === 404) {
      return new HubError('not-found', `${what}: not found (HTTP 404: ${detail}). HINT: check the repo id and the Hub endpoint (${opts.endpoint}).`, e.url, 404);
    }
    if (e.statusCode === 412) {
      return new HubError('bad-response', `${what}: someone else committed to ${opts.repo} meanwhile (HTTP 412). HINT: push again.`, e.url, 412);
    }
    return new HubError('bad-response', `${what}: HTTP ${e.statusCode} from the Hub (${detail}). HINT: retry later, or check the Hub endpoint (${opts.endpoint}).`, e.url, e.statusCode);
  }
  const reason = scrub(e instanceof Error ? e.message : String(e), opts.token);
  return new HubError('network', `${what}: could not reach ${opts.endpoint} (${reason}). HINT: check the network and the Hub endpoint setting.`, opts.endpoint);
}

/** Creates the repo when missing (a 409 means it exists: push a new commit to it) and commits every file in one
 * commit, so the repo never shows half an adapter. */
export async function pushToHub(opts: PushOptions): Promise<PushResult> {
  checkInputs(opts);
  const hubUrl = opts.endpoint.replace(/\/+$/, '');
  const common = { hubUrl, accessToken: opts.token, ...(opts.fetch ? { fetch: opts.fetch } : {}) };
  const repo = { type: 'model' as const, name: opts.repo };

  let created = true;
  let repoUrl = `${hubUrl}/${opts.repo}`;
  opts.onProgress?.({ phase: 'creating-repo' });
  try {
    const made = await createRepo({ ...common, repo, visibility: opts.private === false ? 'public' : 'private' });
    if (made.repoUrl) repoUrl = made.repoUrl;
  } catch (e) {
    if (!(e instanceof HubApiError && e.statusCode === 409)) throw explain(e, opts, `Creating ${opts.repo}`);
    created = false;
  }

  let output: CommitOutput | undefined;
  try {
    const iter = commitIter({
      ...common,
      repo,
      title: opts.commitTitle ?? 'Upload LoRA adapter trained with TabTune',
      ...(opts.commitDescription ? { description: opts.commitDescription } : {}),
      operations: [...opts.files].map(([path, bytes]) => ({ operation: 'addOrUpdate' as const, path, content: new Blob([bytes as Uint8Array<ArrayBuffer>]) })),
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    });
    for (let step = await iter.next(); ; step = await iter.next()) {
      if (step.done) {
        output = step.value;
        break;
      }
      const ev = step.value;
      if (ev.event === 'phase') opts.onProgress?.({ phase: ev.phase });
      else opts.onProgress?.({ phase: 'file', path: ev.path, progress: ev.progress, state: ev.state });
    }
  } catch (e) {
    throw explain(e, opts, `Pushing to ${opts.repo}`);
  }
  if (!output?.commit.oid) throw new HubError('bad-response', `Pushing to ${opts.repo}: the Hub did not return a commit id.`, hubUrl);
  return { repo: opts.repo, repoUrl, created, commitOid: output.commit.oid, commitUrl: output.commit.url };
}
