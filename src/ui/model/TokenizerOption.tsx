// An optional tokenizer from another repo (org/name@revision), checked against the model: a vocabulary larger than
// the embedding rows is an error; different bos/eos/pad tokens, a differently sized vocabulary and a missing chat
// template are warnings.
import { useState, type FormEvent } from 'react';
import { useActions, useApp } from '../app-context';
import { ErrorNote, Progress } from '../Panel';
import { shortSha } from '../format';
import { parseDatasetRef } from '../data/HubDatasetForm';

export function TokenizerOption() {
  const { model: actions } = useActions();
  // The object in the run config keeps its identity until it changes, so this selection is stable.
  const choice = useApp((s) => s.runConfig.tokenizer) ?? null;
  const check = useApp((s) => s.tokenizerCheck);
  const state = useApp((s) => s.tokenizerCheckState);
  const [ref, setRef] = useState(choice ? `${choice.repo}@${choice.revision}` : '');
  const parsed = parseDatasetRef(ref);
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    if (parsed) void actions.checkTokenizer(parsed);
  };
  const errors = check?.problems.filter((p) => p.level === 'error') ?? [];
  const warnings = check?.problems.filter((p) => p.level === 'warn') ?? [];
  return (
    <details className="source-form" open={choice !== null || state.status === 'error'} data-testid="tokenizer-option">
      <summary>Tokenizer: {choice ? <code>{choice.repo}@{choice.revision}</code> : 'the model’s own'}
        {choice?.sha && <span className="muted"> (pinned to {shortSha(choice.sha)})</span>}</summary>
      <form onSubmit={submit} aria-label="Separate tokenizer">
        <label>Tokenizer repo<input value={ref} onChange={(e) => setRef(e.target.value)} spellCheck={false} placeholder="org/name@revision" /></label>
        <div className="row">
          <button type="submit" disabled={!parsed}>Check tokenizer</button>
          {choice && (
            <button type="button" className="secondary" onClick={() => { setRef(''); void actions.checkTokenizer(null); }}>Use the model’s own</button>
          )}
        </div>
      </form>
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {check && (
        <div className="tokenizer-check" data-testid="tokenizer-check">
          <p className="small">
            <code title={check.sha}>{check.location.repo}@{shortSha(check.sha)}</code>: {check.vocabSize.toLocaleString('en-US')} tokens
            {check.embeddingRows !== null && <> for {check.embeddingRows.toLocaleString('en-US')} embedding rows</>}
            {errors.length === 0 && warnings.length === 0 && <span className="ok"> — matches the model.</span>}
          </p>
          {errors.map((p) => <ErrorNote key={p.message}>{p.message}</ErrorNote>)}
          {warnings.length > 0 && (
            <ul className="warn-list" aria-label="Tokenizer warnings">
              {warnings.map((p) => <li key={p.message} className="warn">{p.message}</li>)}
            </ul>
          )}
        </div>
      )}
    </details>
  );
}
