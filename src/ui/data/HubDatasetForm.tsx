// A dataset repo on the Hub, named `org/name@revision` plus an optional file (blank: the files of the train split),
// read through the Hub endpoint setting the Model panel uses. The worker pins the revision to a commit sha.
import { useState, type FormEvent } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';

const REF = /^([\w.-]+\/[\w.-]+)(?:@([\w./-]+))?$/;

/** `org/name[@revision]` → its parts, or null when it is not a repo id. */
export function parseDatasetRef(text: string): { repo: string; revision: string } | null {
  const m = REF.exec(text.trim());
  return m?.[1] ? { repo: m[1], revision: m[2] ?? 'main' } : null;
}

export function HubDatasetForm() {
  const api = useStoreApi();
  const { reloadDataset } = useActions();
  const endpoint = useApp((s) => s.hubEndpoint);
  const choice = useApp((s) => s.datasetChoice);
  const [ref, setRef] = useState(choice?.kind === 'hub' ? `${choice.repo}@${choice.revision}` : '');
  const [file, setFile] = useState(choice?.kind === 'hub' ? (choice.file ?? '') : '');
  const parsed = parseDatasetRef(ref);
  const load = (ev: FormEvent) => {
    ev.preventDefault();
    if (!parsed) return;
    const f = file.trim();
    const name = `${parsed.repo}@${parsed.revision}${f ? `/${f}` : ''}`;
    api.getState().chooseDataset({ kind: 'hub', name, repo: parsed.repo, revision: parsed.revision, ...(f ? { file: f } : {}) });
    void reloadDataset();
  };
  return (
    <details className="source-form" open={choice?.kind === 'hub'}>
      <summary>From the Hub ({endpoint})</summary>
      <form onSubmit={load} aria-label="Hub dataset">
        <label>Dataset<input value={ref} onChange={(e) => setRef(e.target.value)} spellCheck={false} placeholder="org/name@revision" aria-invalid={ref !== '' && !parsed} /></label>
        <label>File (blank: the train split)<input value={file} onChange={(e) => setFile(e.target.value)} spellCheck={false} placeholder="data/train.jsonl" /></label>
        <div className="row">
          <button type="submit" disabled={!parsed}>Load dataset</button>
          {ref !== '' && !parsed && <span className="small warn">Write the dataset as org/name, optionally @branch, tag or commit.</span>}
        </div>
      </form>
    </details>
  );
}
