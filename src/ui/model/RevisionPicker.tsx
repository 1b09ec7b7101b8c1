// The revision field with the repo's branches and tags (from the Hub's refs API) and the commit the typed revision
// resolves to, so the user sees the sha a run will be pinned to before loading anything.
import { useEffect, useState } from 'react';
import { useActions } from '../app-context';
import { shortSha } from '../format';
import type { HubRefs } from '../../worker/protocol';

const REPO = /^[\w.-]+\/[\w.-]+$/;
const SHA = /^[0-9a-f]{40}$/;

/** What a revision names among the refs: a branch or tag (with its commit), a full sha, or nothing known. */
function resolveRef(refs: HubRefs | null, revision: string): { kind: 'branch' | 'tag' | 'sha' | 'unknown'; sha: string | null } {
  const rev = revision.trim();
  const branch = refs?.branches.find((b) => b.name === rev);
  if (branch) return { kind: 'branch', sha: branch.sha };
  const tag = refs?.tags.find((t) => t.name === rev);
  if (tag) return { kind: 'tag', sha: tag.sha };
  return SHA.test(rev) ? { kind: 'sha', sha: rev } : { kind: 'unknown', sha: null };
}

/** `repo`: whose refs to list; null lists none (nothing is fetched until the user names a repo). */
export function RevisionPicker(props: { endpoint: string; repo: string | null; value: string; onChange(value: string): void }) {
  const { model: actions } = useActions();
  const [refs, setRefs] = useState<HubRefs | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { endpoint, repo } = props;
  useEffect(() => {
    setRefs(null);
    setError(null);
    if (repo === null || !REPO.test(repo)) return undefined;
    let current = true;
    const timer = setTimeout(() => {
      void actions.refs(endpoint, repo).then((r) => {
        if (!current) return;
        setRefs(r.refs);
        setError(r.error);
      });
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [actions, endpoint, repo]);
  const resolved = resolveRef(refs, props.value);
  const all = refs ? [...refs.branches.map((b) => ({ ...b, kind: 'branch' })), ...refs.tags.map((t) => ({ ...t, kind: 'tag' }))] : [];
  return (
    <div className="revision">
      <div className="row">
        <label className="grow">Revision (branch, tag or commit)
          <input value={props.value} onChange={(e) => props.onChange(e.target.value)} spellCheck={false} />
        </label>
        {all.length > 0 && (
          <label className="grow">Branches and tags
            <select value={all.some((r) => r.name === props.value.trim()) ? props.value.trim() : ''} onChange={(e) => { if (e.target.value) props.onChange(e.target.value); }}>
              <option value="">choose…</option>
              {all.map((r) => <option key={`${r.kind} ${r.name}`} value={r.name}>{r.name} ({r.kind}, {shortSha(r.sha)})</option>)}
            </select>
          </label>
        )}
      </div>
      <p className="small" data-testid="revision-sha" aria-live="polite">
        {resolved.sha !== null ? (
          <>
            <span className="muted">{resolved.kind === 'sha' ? 'Commit ' : `${resolved.kind === 'branch' ? 'Branch' : 'Tag'} ${props.value.trim()} is at commit `}</span>
            <code title={resolved.sha}>{resolved.sha}</code>
          </>
        ) : error ? (
          <span className="warn">{error}</span>
        ) : refs ? (
          <span className="warn">{props.value.trim() || '(empty)'} is not a branch or tag of {repo}; give one of those or a 40-character commit sha.</span>
        ) : (
          <span className="muted">The revision is pinned to a commit when the model loads.</span>
        )}
      </p>
    </div>
  );
}
