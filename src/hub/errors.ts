// Hub errors: one class whose `kind` says what went wrong and whose message says how to fix it.

export type HubErrorKind = 'not-found' | 'unauthorized' | 'network' | 'bad-response' | 'integrity' | 'aborted';

export class HubError extends Error {
  constructor(readonly kind: HubErrorKind, message: string, readonly url: string, readonly status?: number) {
    super(message);
    this.name = 'HubError';
  }
}

/**
 * What a failed HTTP status means for `what` (e.g. `repo tabtune/x at revision main`), with a HINT. `errorCode` is
 * the Hub's X-Error-Code header when readable: the Hub answers 401 RepoNotFound for a missing repo when no token is
 * sent (it will not say whether a private repo exists), which must not read as "gated".
 */
export function httpError(status: number, url: string, what: string, endpoint: string, errorCode?: string | null): HubError {
  if (errorCode === 'RepoNotFound' || errorCode === 'RevisionNotFound' || errorCode === 'EntryNotFound') {
    const missing = errorCode === 'RepoNotFound' ? 'repository' : errorCode === 'RevisionNotFound' ? 'revision' : 'file';
    const privateHint = status === 401 ? ' If the repo is private, set an access token (hf_…) in the Hub settings.' : '';
    return new HubError('not-found', `${what}: ${missing} not found (HTTP ${status}, ${errorCode}) at ${url}. `
      + `HINT: check the ${missing === 'file' ? 'file name' : missing === 'revision' ? 'branch, tag or sha' : 'repo id'}; the endpoint in use is ${endpoint}.${privateHint}`, url, status);
  }
  if (status === 401 || status === 403) {
    return new HubError('unauthorized', `${what}: access denied (HTTP ${status}) at ${url}. The repo is gated or private. `
      + 'HINT: accept its licence on the Hub and set an access token (hf_…) in the Hub settings.', url, status);
  }
  if (status === 404) {
    return new HubError('not-found', `${what}: not found (HTTP 404) at ${url}. `
      + `HINT: check the repo id, the revision and the file name; the endpoint in use is ${endpoint}.`, url, status);
  }
  if (status === 416) {
    return new HubError('bad-response', `${what}: the requested byte range is outside the file (HTTP 416) at ${url}. `
      + 'HINT: the file changed size; clear the cache and retry.', url, status);
  }
  return new HubError('bad-response', `${what}: HTTP ${status} from ${url}. HINT: retry later, or check the Hub endpoint setting (${endpoint}).`, url, status);
}

export function networkError(url: string, what: string, endpoint: string, cause: unknown): HubError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const err = new HubError('network', `${what}: could not reach ${url} (${reason}). `
    + `HINT: check the network, or set the Hub endpoint (now ${endpoint}) to a reachable server or local mirror.`, url);
  err.cause = cause; // keep the underlying error (e.g. ECONNRESET) for whoever needs the detail
  return err;
}
