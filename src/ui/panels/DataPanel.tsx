// Data panel: pick a bundled sample dataset, upload a file or name a Hub dataset, then see what the worker read —
// size, content hash, file format, detected layout and field mapping (editable), row count, problems by line, the
// first rows — and what run.prepare made of it: token lengths, the train/eval split and the rows dropped.
import type { ChangeEvent, ReactNode } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import { Empty, ErrorNote, Facts, Panel, Progress } from '../Panel';
import { formatBytes, shortSha } from '../format';
import { HubDatasetForm } from '../data/HubDatasetForm';
import { MappingEditor } from '../data/MappingEditor';
import { PreparedData } from '../data/PreparedData';
import { selectBundledDatasets, selectDataset, selectDatasetChoice, selectDatasetState, selectInputsLocked } from '../../store/selectors';
import { LockedFieldset, LockedNote } from './LockedNote';
import { RowView } from './RowView';

const SHOWN_ROWS = 6;

function Picker() {
  const api = useStoreApi();
  const { reloadDataset, uploadDataset } = useActions();
  const choice = useApp(selectDatasetChoice);
  const bundled = useApp(selectBundledDatasets);
  const onSelect = (ev: ChangeEvent<HTMLSelectElement>) => {
    api.getState().chooseDataset({ kind: 'bundled', file: ev.target.value });
    void reloadDataset();
  };
  const onFile = (ev: ChangeEvent<HTMLInputElement>) => {
    const file = ev.target.files?.[0];
    if (file) void uploadDataset(file);
    ev.target.value = '';
  };
  const described = choice?.kind === 'bundled' ? bundled.find((d) => d.file === choice.file) : undefined;
  const locked = useApp(selectInputsLocked);
  return (
    <fieldset className="plain" disabled={locked} data-testid="data-inputs">
      {locked && <LockedNote what="dataset" />}
      <div className="row picker">
        <label className="grow">
          <span className="sr-only">Bundled dataset</span>
          <select value={choice?.kind === 'bundled' ? choice.file : ''} onChange={onSelect} aria-label="Bundled dataset">
            {choice?.kind === 'upload' && <option value="">Uploaded: {choice.name}</option>}
            {choice?.kind === 'hub' && <option value="">Hub: {choice.name}</option>}
            {choice === null && <option value="">No dataset chosen</option>}
            {bundled.map((d) => (
              <option key={d.file} value={d.file}>{d.title}</option>
            ))}
          </select>
        </label>
        <label className="button secondary">
          Upload…
          <input type="file" accept=".jsonl,.json,.csv,.parquet" onChange={onFile} className="sr-only" />
        </label>
      </div>
      {described && <p className="muted small" data-testid="dataset-description">{described.description}</p>}
      <HubDatasetForm />
    </fieldset>
  );
}

export function DataPanel() {
  const bundled = useApp(selectBundledDatasets);
  const dataset = useApp(selectDataset);
  const state = useApp(selectDatasetState);
  return (
    <Panel id="data" step={2} title="Data">
      <Picker />
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {dataset ? (
        <>
          <Facts
            testId="dataset-facts"
            rows={[
              ['name', <code key="n">{dataset.name}</code>],
              ['rows', <span key="r" data-testid="dataset-rows">{dataset.rowCount.toLocaleString('en-US')}</span>],
              ['layout', <span key="l" data-testid="dataset-layout">{dataset.layout ?? 'not recognised'}</span>],
              ['file', <span key="f" data-testid="dataset-format">{dataset.fileFormat}, {formatBytes(dataset.bytes)}</span>],
              ...(dataset.hub ? [['commit', <code key="s" title={dataset.hub.sha} data-testid="dataset-sha">{shortSha(dataset.hub.sha)}</code>] as [string, ReactNode]] : []),
              ['hash', <code key="h" title={dataset.hash}>{dataset.hash.replace(/^sha256:/, '').slice(0, 12)}…</code>],
            ]}
          />
          {dataset.issueCount > 0 && (
            <details className="issues">
              <summary className="warn">
                {dataset.issueCount === 1 ? '1 problem; that row is skipped' : `${dataset.issueCount.toLocaleString('en-US')} problems; those rows are skipped`}
              </summary>
              <ul>
                {dataset.issues.map((i, n) => <li key={n}>{i.where}: {i.message}</li>)}
              </ul>
            </details>
          )}
          <LockedFieldset><MappingEditor /></LockedFieldset>
          <PreparedData />
          <ol className="rows" data-testid="dataset-preview" aria-label="First rows" tabIndex={0}>
            {dataset.rows.slice(0, SHOWN_ROWS).map((row, i) => (
              <li key={i}><RowView row={row} /></li>
            ))}
          </ol>
          {dataset.rowCount > SHOWN_ROWS && (
            <p className="muted small">First {SHOWN_ROWS} of {dataset.rowCount.toLocaleString('en-US')} rows.</p>
          )}
        </>
      ) : (
        state.status === 'idle' && (
          <Empty>{bundled.length === 0 ? 'This build has no bundled datasets; upload a JSONL or JSON file.' : 'No dataset loaded yet.'}</Empty>
        )
      )}
    </Panel>
  );
}
