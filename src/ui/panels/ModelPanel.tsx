// Model panel: which checkpoint (bundled demo or a Hub repo), the Hub endpoint setting, and what the worker read
// from the repo — commit, config.json fields, parameter count and file list — then whether TabTune can train it, the
// memory bill before download, the weights download, a separate tokenizer and the cache. Nothing here is made up:
// absent keys show as "not set".
import { useState, type FormEvent } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import { Empty, ErrorNote, Facts, Panel, Progress } from '../Panel';
import { formatBytes, formatCount, shortSha } from '../format';
import { demoEndpoint } from '../../store/selectors';
import { DEMO_REPO } from '../../store/slices';
import type { ModelSummary } from '../../worker/protocol';
import { CachedModels } from '../model/CachedModels';
import { RepoCombobox } from '../model/RepoCombobox';
import { RevisionPicker } from '../model/RevisionPicker';
import { MemoryBill } from '../model/MemoryBill';
import { TokenizerOption } from '../model/TokenizerOption';
import { WeightsDownload } from '../model/WeightsDownload';
import { LockedFieldset } from './LockedNote';

function show(v: number | string | boolean | null): string {
  if (v === null) return 'not set';
  return typeof v === 'number' ? v.toLocaleString('en-US') : String(v);
}

function ModelFacts({ model }: { model: ModelSummary }) {
  const c = model.config;
  const dtypes = Object.entries(model.parameters.byDtype).map(([d, n]) => `${d} ${formatCount(n)}`).join(', ');
  return (
    <>
      <Facts
        testId="model-facts"
        rows={[
          ['repo', <code key="r">{model.location.repo}</code>],
          ['commit', <code key="c" title={model.sha} data-testid="model-sha">{shortSha(model.sha)}</code>],
          ['model_type', <code key="t" data-testid="model-type">{show(c.model_type)}</code>],
          ['architectures', c.architectures.join(', ') || 'not set'],
          ['layers', show(c.num_hidden_layers)],
          ['hidden size', show(c.hidden_size)],
          ['intermediate size', show(c.intermediate_size)],
          ['attention heads', c.num_key_value_heads !== null && c.num_key_value_heads !== c.num_attention_heads
            ? `${show(c.num_attention_heads)} (KV ${show(c.num_key_value_heads)})`
            : show(c.num_attention_heads)],
          ['vocab size', show(c.vocab_size)],
          ['context', show(c.max_position_embeddings)],
          ['tied embeddings', show(c.tie_word_embeddings)],
          ['parameters', <span key="p" data-testid="model-params" title={`${model.parameters.total} in ${model.parameters.tensors} tensors`}>
            {formatCount(model.parameters.total)} <span className="muted">({dtypes})</span>
          </span>],
        ]}
      />
      <details className="files">
        <summary>{model.files.length} files, {formatBytes(model.files.reduce((a, f) => a + f.size, 0))}</summary>
        <ul>
          {model.files.map((f) => (
            <li key={f.path}><code>{f.path}</code> <span className="muted">{formatBytes(f.size)}</span></li>
          ))}
        </ul>
      </details>
    </>
  );
}

function SourceForm() {
  const api = useStoreApi();
  const { reloadModel } = useActions();
  const choice = useApp((s) => s.modelChoice);
  const endpoint = useApp((s) => s.hubEndpoint);
  const [repo, setRepo] = useState(choice.kind === 'hub' ? choice.repo : 'HuggingFaceTB/SmolLM2-135M-Instruct');
  const [revision, setRevision] = useState(choice.kind === 'hub' ? choice.revision : 'main');
  const [hub, setHub] = useState(endpoint);
  // The repo whose branches and tags are listed: set when one is picked or the field is left, not on every keystroke
  // (a half-typed id is a 404) and not on opening the form (the default endpoint may be offline).
  const [listed, setListed] = useState<string | null>(null);
  // Every endpoint is asked: the Hub, a mirror (scripts/mirror.ts), and this app's bundled mirror (scripts/serve.mjs
  // answers search and refs for it).
  const origin = useApp((s) => s.origin);

  const loadHub = (ev: FormEvent) => {
    ev.preventDefault();
    const state = api.getState();
    state.setHubEndpoint(hub);
    state.chooseModel({ kind: 'hub', repo: repo.trim(), revision: revision.trim() || 'main' });
    void reloadModel();
  };
  const loadDemo = () => {
    api.getState().chooseModel({ kind: 'bundled' });
    void reloadModel();
  };
  const failure = useApp((s) => s.modelLoadFailure);
  const shown = useApp((s) => s.model);
  const mirror = demoEndpoint(origin);
  const useMirror = () => {
    setHub(mirror);
    setRepo(DEMO_REPO);
    setRevision('main');
    loadDemo();
  };
  return (
    <details className="source-form">
      <summary>{choice.kind === 'bundled' ? `Bundled demo (${DEMO_REPO}, served by this app)` : `Hub: ${endpoint}`}</summary>
      <form onSubmit={loadHub}>
        <label>Hub endpoint<input value={hub} onChange={(e) => setHub(e.target.value)} spellCheck={false} /></label>
        <RepoCombobox endpoint={hub} searchable value={repo} onChange={setRepo} onPick={(id) => { setRevision('main'); setListed(id); }} onCommit={setListed} />
        <RevisionPicker endpoint={hub} repo={listed} value={revision} onChange={setRevision} />
        <div className="row">
          <button type="submit" disabled={!/^[\w.-]+\/[\w.-]+$/.test(repo.trim())}>Load from Hub</button>
          <button type="button" className="secondary" onClick={loadDemo}>Use bundled demo</button>
        </div>
        {failure && (
          <div className="error-note" role="alert" data-testid="model-load-failure">
            <p className="small">Could not load <code>{failure.asked}</code>: {failure.message}</p>
            {shown && <p className="small" data-testid="model-kept">Still using <code>{shown.location.repo}</code>, which loaded before: the examples and any run are unchanged.</p>}
            {failure.unreachable && (
              <p className="small">
                The Hub cannot be reached from here. This app serves its own Hub mirror of the demo model at <code>{mirror}</code>.{' '}
                <button type="button" className="secondary" onClick={useMirror} data-testid="use-mirror">Use the bundled mirror</button>
              </p>
            )}
          </div>
        )}
        <p className="small muted">Offline? This app serves a Hub mirror of the demo at <code>{mirror}</code>; for the fixture models with search and revisions run <code>npx tsx scripts/mirror.ts</code> and set its address as the endpoint.</p>
      </form>
    </details>
  );
}

export function ModelPanel() {
  const failure = useApp((s) => s.modelLoadFailure);
  const model = useApp((s) => s.model);
  const state = useApp((s) => s.modelState);
  return (
    <Panel id="model" step={1} title="Model">
      <LockedFieldset note="model"><SourceForm /></LockedFieldset>
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && !failure && <ErrorNote>{state.message}</ErrorNote>}
      {model?.support && !model.support.supported && (
        <ErrorNote>
          <span data-testid="model-unsupported">TabTune cannot train this checkpoint: {model.support.message}</span>{' '}
          Supported model types: {model.support.supportedTypes.join(', ')}.
        </ErrorNote>
      )}
      {model ? <ModelFacts model={model} /> : state.status === 'idle' && <Empty>No model loaded yet.</Empty>}
      {model?.memory && <MemoryBill memory={model.memory} />}
      {model?.memoryError && <ErrorNote>No memory bill for these settings: {model.memoryError}</ErrorNote>}
      {model && <WeightsDownload model={model} />}
      {model && <LockedFieldset><TokenizerOption /></LockedFieldset>}
      <CachedModels />
    </Panel>
  );
}
