// "Share & export" panel: a link that reproduces the current run (copied to the clipboard and shown for copying by
// hand), the run as a zip (download, import to inspect or continue, a PEFT adapter made elsewhere), and the same job
// for a GPU cluster. Plain controls over src/store/share.ts; no bytes pass through React state.
import { useState, type ChangeEvent, type FormEvent } from 'react';
import { useActions, useApp } from '../app-context';
import { ErrorNote, Panel, Progress } from '../Panel';
import { isTraining } from '../../store/run';
import type { AppState } from '../../store/slices';
import { count } from '../../share/wording';


type CopyState = 'idle' | 'copied' | 'manual';

function ShareLink() {
  const { share } = useActions();
  const link = useApp((s) => s.outgoingLink);
  const [copy, setCopy] = useState<CopyState>('idle');
  const onCopy = async () => {
    setCopy('idle');
    const url = await share.makeLink();
    if (!url) return;
    try {
      // The Clipboard API needs focus and permission; when it refuses, the link is still selectable below.
      await navigator.clipboard.writeText(url);
      setCopy('copied');
    } catch {
      setCopy('manual');
    }
  };
  return (
    <section className="share-block" aria-labelledby="share-link-title">
      <h3 id="share-link-title">Share link</h3>
      <p className="muted small">
        The model pinned to its commit, the data (small uploads inside the link, larger ones by hash), template, mask,
        LoRA, hyperparameters and seed. Same device and seed, same losses. Never a token.
      </p>
      <div className="row">
        <button type="button" onClick={() => void onCopy()} data-testid="copy-share-link">Copy share link</button>
        {copy === 'copied' && <span className="ok small" role="status">Copied to the clipboard.</span>}
        {copy === 'manual' && <span className="muted small" role="status">Select the link below and copy it.</span>}
      </div>
      {link.status === 'ready' && (
        <label>
          Link to this run ({link.url.length.toLocaleString('en-US')} characters)
          <input readOnly value={link.url} onFocus={(e) => e.target.select()} data-testid="share-link" />
        </label>
      )}
      {link.status === 'error' && <ErrorNote>{link.message}</ErrorNote>}
    </section>
  );
}


/** The files an <input type=file> picked, read into bytes (the input is cleared so the same file can be picked again). */
async function picked(ev: ChangeEvent<HTMLInputElement>): Promise<{ name: string; bytes: Uint8Array }[]> {
  const files = [...(ev.target.files ?? [])];
  ev.target.value = '';
  return Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

function RunZip() {
  const { exporting } = useActions();
  const phase = useApp((s) => s.phase);
  const step = useApp((s) => s.step);
  const exportState = useApp((s) => s.exportState);
  const importState = useApp((s) => s.importState);
  const note = useApp((s) => s.importNote);
  const last = useApp((s) => s.lastExport);
  const importedStep = useApp((s) => s.importedCheckpointStep);
  const busy = isTraining(phase);
  const onRun = async (ev: ChangeEvent<HTMLInputElement>) => {
    const [file] = await picked(ev);
    if (file) await exporting.importZip(file.name, file.bytes);
  };
  const onAdapter = async (ev: ChangeEvent<HTMLInputElement>) => {
    const files = await picked(ev);
    if (files.length) await exporting.importAdapterFiles(files);
  };
  return (
    <section className="share-block" aria-labelledby="run-zip-title">
      <h3 id="run-zip-title">Run as a zip</h3>
      <p className="muted small">
        PEFT adapter folder, tokenizer, generation_config.json, trainer_state.json, model card, manifest, metrics.csv,
        samples.jsonl and the checkpoint to continue from. Import one to inspect it or keep training.
      </p>
      <div className="row">
        <button type="button" onClick={() => void exporting.exportRun()} disabled={busy || step === 0 || exportState.status === 'loading'}
          title={step === 0 ? 'Train at least one step first' : busy ? 'Pause the run first' : undefined} data-testid="export-run">
          Download run (.zip)
        </button>
        <button type="button" className="secondary" onClick={() => void exporting.exportRun({ adapterOnly: true })} disabled={busy || (step === 0 && importState.status !== 'ready') || exportState.status === 'loading'}
          title="Only the PEFT adapter folder: adapter_config.json, adapter_model.safetensors and the model card" data-testid="export-adapter">
          Download adapter only (.zip)
        </button>
        <label className="button secondary">
          Import run (.zip)…
          <input type="file" accept=".zip,application/zip" onChange={(e) => void onRun(e)} disabled={busy} className="sr-only" data-testid="import-run" />
        </label>
        <label className="button secondary">
          Import PEFT adapter…
          <input type="file" multiple accept=".zip,.json,.safetensors" onChange={(e) => void onAdapter(e)} disabled={busy} className="sr-only"
            aria-describedby="adapter-help" data-testid="import-adapter" />
        </label>
      </div>
      <p id="adapter-help" className="muted small">An adapter: its folder as a zip, or adapter_config.json and adapter_model.safetensors together.</p>
      {exportState.status === 'loading' && <Progress stage={exportState.stage} loaded={exportState.loaded} total={exportState.total} />}
      {exportState.status === 'error' && <ErrorNote>{exportState.message}</ErrorNote>}
      {exportState.status === 'ready' && last && (
        <details className="small" data-testid="export-files">
          <summary>Saved {last.fileName} (checkpoint at step {last.step}, {count(last.files.length, 'file')})</summary>
          <ul className="file-list">{last.files.map((f) => <li key={f}><code>{f}</code></li>)}</ul>
        </details>
      )}
      {importState.status === 'loading' && <Progress stage={importState.stage} loaded={importState.loaded} total={importState.total} />}
      {importState.status === 'error' && <ErrorNote>{importState.message}</ErrorNote>}
      {importState.status === 'ready' && note && <p className="ok small" role="status" data-testid="import-note">{note}</p>}
      {importedStep !== null && (
        <div className="row">
          <button type="button" onClick={() => void exporting.continueImported()} disabled={busy} data-testid="continue-imported">
            Continue training from step {importedStep}
          </button>
        </div>
      )}
    </section>
  );
}

const selectPreparedReady = (s: AppState) => s.prepared !== null && s.preparedState.status === 'ready' && s.model !== null;

function Cluster() {
  const { exporting } = useActions();
  const state = useApp((s) => s.clusterState);
  const readme = useApp((s) => s.clusterReadme);
  const ready = useApp(selectPreparedReady);
  const busy = state.status === 'loading' || !ready;
  return (
    <section className="share-block" aria-labelledby="cluster-title">
      <h3 id="cluster-title">Run it on a GPU cluster</h3>
      <p className="muted small">
        The same job for Axolotl and for TRL&apos;s SFTTrainer: model revision, template, mask, LoRA, hyperparameters, seed.
        Both read the rows this tab trains on from data/; the zip has them, with the <code>accelerate launch</code> lines.
      </p>
      <div className="row">
        <button type="button" onClick={() => void exporting.exportCluster('zip')} disabled={busy} data-testid="cluster-zip">Job with data (.zip)</button>
        <button type="button" className="secondary" onClick={() => void exporting.exportCluster('axolotl')} disabled={busy} data-testid="cluster-axolotl">Axolotl YAML</button>
        <button type="button" className="secondary" onClick={() => void exporting.exportCluster('trl')} disabled={busy} data-testid="cluster-trl">TRL script</button>
      </div>
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {readme && (
        <details className="small" data-testid="cluster-readme">
          <summary>How to launch it</summary>
          <pre className="cluster-readme">{readme}</pre>
        </details>
      )}
    </section>
  );
}


function Push() {
  const { exporting } = useActions();
  const state = useApp((s) => s.pushState);
  const result = useApp((s) => s.pushResult);
  const endpoint = useApp((s) => s.hubEndpoint);
  const phase = useApp((s) => s.phase);
  const step = useApp((s) => s.step);
  // An imported adapter is pushable before any training (the worker writes its folder).
  const imported = useApp((s) => s.importState).status === 'ready';
  const nothing = step === 0 && !imported;
  // The token lives in this component's memory only: not in the store, a link, storage or a log.
  const [token, setToken] = useState('');
  const [repo, setRepo] = useState('');
  const [isPrivate, setPrivate] = useState(true);
  const busy = state.status === 'loading' || isTraining(phase);
  const onSubmit = (ev: FormEvent) => {
    ev.preventDefault();
    void exporting.push({ token: token.trim(), repo, private: isPrivate });
  };
  return (
    <section className="share-block" aria-labelledby="push-title">
      <h3 id="push-title">Push the adapter to the Hub</h3>
      <p className="muted small">
        The adapter folder and its model card, in one commit to <code>{endpoint}</code> (Settings). The token is kept in this
        page&apos;s memory only.
      </p>
      <form className="push-form" onSubmit={onSubmit}>
        <label>
          Access token (write)
          <input type="password" autoComplete="off" spellCheck={false} value={token} onChange={(e) => setToken(e.target.value)} placeholder="hf_…" data-testid="push-token" />
        </label>
        <label>
          Model repo
          <input type="text" value={repo} onChange={(e) => setRepo(e.target.value)} placeholder="your-name/qwen3-lora" spellCheck={false} data-testid="push-repo" />
        </label>
        <label className="inline-check">
          <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} data-testid="push-private" />
          Private (when the repo is new)
        </label>
        <div className="row">
          <button type="submit" disabled={busy || nothing || !token.trim() || !repo.trim()} data-testid="push-submit"
            title={nothing ? 'Train at least one step or import an adapter first' : undefined}>
            Push to the Hub
          </button>
        </div>
      </form>
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {state.status === 'ready' && result && (
        <p className="ok small" role="status" data-testid="push-result">
          {result.created ? 'Created' : 'Updated'} <a href={result.repoUrl} target="_blank" rel="noreferrer">{result.repo}</a>:
          commit <a href={result.commitUrl} target="_blank" rel="noreferrer"><code>{result.commitOid.slice(0, 8)}</code></a>.
        </p>
      )}
    </section>
  );
}

export function SharePanel() {
  return (
    <Panel id="share" step={9} title="Share & export">
      <ShareLink />
      <RunZip />
      <Push />
      <Cluster />
    </Panel>
  );
}
