// "Share & export" panel: a link that reproduces the current run (copied to the clipboard and shown for copying by
// hand), the run as a zip (download, import to inspect or continue, a PEFT adapter made elsewhere), and the same job
// for a GPU cluster. Plain controls over src/store/share-actions.ts; no bytes pass through React state.
import { useState, type ChangeEvent } from 'react';
import { useActions, useApp } from '../app-context';
import { ErrorNote, Panel, Progress } from '../Panel';
import { isTraining } from '../../store/run-actions';
import { selectPhase, selectStep } from '../../store/selectors';
import type { AppState } from '../../store/types';

const selectOutgoing = (s: AppState) => s.outgoingLink;

type CopyState = 'idle' | 'copied' | 'manual';

function ShareLink() {
  const { share } = useActions();
  const link = useApp(selectOutgoing);
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

const selectExportState = (s: AppState) => s.exportState;
const selectImportState = (s: AppState) => s.importState;
const selectImportNote = (s: AppState) => s.importNote;
const selectLastExport = (s: AppState) => s.lastExport;
const selectImportedStep = (s: AppState) => s.importedCheckpointStep;

/** The files an <input type=file> picked, read into bytes (the input is cleared so the same file can be picked again). */
async function picked(ev: ChangeEvent<HTMLInputElement>): Promise<{ name: string; bytes: Uint8Array }[]> {
  const files = [...(ev.target.files ?? [])];
  ev.target.value = '';
  return Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

function RunZip() {
  const { exporting } = useActions();
  const phase = useApp(selectPhase);
  const step = useApp(selectStep);
  const exportState = useApp(selectExportState);
  const importState = useApp(selectImportState);
  const note = useApp(selectImportNote);
  const last = useApp(selectLastExport);
  const importedStep = useApp(selectImportedStep);
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
          <summary>Saved {last.fileName} (checkpoint at step {last.step}, {last.files.length} files)</summary>
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

export function SharePanel() {
  return (
    <Panel id="share" step={9} title="Share & export">
      <ShareLink />
      <RunZip />
    </Panel>
  );
}
