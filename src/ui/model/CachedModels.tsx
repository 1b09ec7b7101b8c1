// What the browser's cache holds, by repo and commit, with its size and a delete button: checkpoints are large and
// the user should see (and reclaim) what TabTune keeps on the device.
import { useActions, useApp } from '../app-context';
import { ErrorNote } from '../Panel';
import { formatBytes, shortSha } from '../format';

export function CachedModels() {
  const { model: actions } = useActions();
  const repos = useApp((s) => s.cachedRepos);
  const state = useApp((s) => s.cacheState);
  const total = repos.reduce((n, r) => n + r.bytes, 0);
  return (
    <details className="cached" data-testid="cached-models" onToggle={(e) => { if ((e.target as HTMLDetailsElement).open) void actions.listCache(); }}>
      <summary>Cached on this device{state.status === 'ready' ? ` (${formatBytes(total)})` : ''}</summary>
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {state.status === 'ready' && repos.length === 0 && <p className="small muted">Nothing cached yet: files are kept after their first download.</p>}
      {repos.length > 0 && (
        <ul className="cached-list" aria-label="Cached repositories">
          {repos.map((r) => (
            <li key={`${r.kind} ${r.endpoint} ${r.repo} ${r.sha}`}>
              <div className="grow">
                <code>{r.repo}</code>{r.kind === 'dataset' && <span className="muted"> (dataset)</span>}
                <div className="muted small" title={r.endpoint}>
                  @{shortSha(r.sha)} · {r.files} {r.files === 1 ? 'file' : 'files'} · {new URL(r.endpoint).host}
                </div>
              </div>
              <span className="size">{formatBytes(r.bytes)}</span>
              <button type="button" className="secondary" onClick={() => void actions.deleteCached(r)} disabled={state.status === 'loading'}
                aria-label={`Delete ${r.repo} at ${shortSha(r.sha)} from the cache`}>Delete</button>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
