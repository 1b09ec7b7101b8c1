// Data panel: pick a bundled sample dataset, upload a file or name a Hub dataset, then see what the worker read —
// size, content hash, file format, detected layout and field mapping (editable), row count, problems by line, the
// first rows — and what run.prepare made of it: token lengths, the train/eval split and the rows dropped.
import { useMemo, type ChangeEvent, type ReactNode } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import { Empty, ErrorNote, Facts, Panel, Progress } from '../Panel';
import { formatBytes, shortSha } from '../format';
import { HubDatasetForm } from '../data/HubDatasetForm';
import { MappingEditor } from '../data/MappingEditor';
import { PreparedData } from '../data/PreparedData';
import { selectInputsLocked } from '../../store/selectors';
import { DROP_REASONS } from '../data/summary';
import { LockedFieldset, LockedNote } from './LockedNote';
import { RowView } from './RowView';

const SHOWN_ROWS = 6;

function Picker() {
  const api = useStoreApi();
  const { reloadDataset, uploadDataset } = useActions();
  const choice = useApp((s) => s.datasetChoice);
  const bundled = useApp((s) => s.bundledDatasets);
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
  const failure = useApp((s) => s.datasetLoadFailure);
  const kept = useApp((s) => s.dataset);
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
      {failure && kept && (
        <div className="error-note" role="alert" data-testid="dataset-load-failure">
          <p className="small">Could not load <code>{failure.asked}</code>: {failure.message}</p>
          <p className="small">Still using <code>{kept.name}</code>, which loaded before.</p>
        </div>
      )}
      <HubDatasetForm />
    </fieldset>
  );
}

export function DataPanel() {
  const bundled = useApp((s) => s.bundledDatasets);
  const dataset = useApp((s) => s.dataset);
  const state = useApp((s) => s.datasetState);
  const prepared = useApp((s) => s.prepared);
  // Rows the prepared run left out, by id, when it was made from the dataset shown.
  const dropped = useMemo(
    () => new Map(prepared && dataset && prepared.dataHash === dataset.hash ? prepared.dropped.map((d) => [d.id, d] as const) : []),
    [prepared, dataset],
  );
  return (
    <Panel id="data" step={2} title="Data">
      <Picker />
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && !dataset && <ErrorNote>{state.message}</ErrorNote>}
      {dataset ? (
        <>
          <Facts
            testId="dataset-facts"
            rows={[
              ['name', <code key="n">{dataset.name}</code>],
              ['rows', <span key="r" data-testid="dataset-rows">{dataset.layout === null ? 'none usable until the fields are mapped' : dataset.rowCount.toLocaleString('en-US')}</span>],
              ['layout', <span key="l" data-testid="dataset-layout">{dataset.layout ?? 'not recognised'}</span>],
              ['file', <span key="f" data-testid="dataset-format">{dataset.fileFormat}, {formatBytes(dataset.bytes)}</span>],
              ...(dataset.hub ? [['commit', <code key="s" title={dataset.hub.sha} data-testid="dataset-sha">{shortSha(dataset.hub.sha)}</code>] as [string, ReactNode]] : []),
              ['hash', <code key="h" title={dataset.hash}>{dataset.hash.replace(/^sha256:/, '').slice(0, 12)}…</code>],
            ]}
          />
          {dataset.layout === null && (
            <div className="warn" role="status" data-testid="layout-unrecognised">
              <p className="small">
                <strong>TabTune does not recognise the layout of {dataset.name}.</strong> It reads rows with <code>messages</code> (or
                ShareGPT <code>conversations</code>), <code>prompt</code> + <code>completion</code>, <code>instruction</code> + <code>output</code>, or <code>text</code>.
                {dataset.columns && dataset.columns.length > 0 && <> This file&apos;s fields are {dataset.columns.map((c, i) => <span key={c}>{i > 0 && ', '}<code>{c}</code></span>)}.</>}
              </p>
              <p className="small">Say which field is which in the field mapping below, then apply it.</p>
            </div>
          )}
          {dataset.issueCount > 0 && dataset.layout !== null && (
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
          {/* Nothing can be prepared from a file with no known layout: the note above says what to do instead. */}
          {dataset.layout !== null && <PreparedData />}
          <ol className="rows" data-testid="dataset-preview" aria-label="First rows" tabIndex={0}>
            {dataset.rows.slice(0, SHOWN_ROWS).map((row, i) => {
              const drop = dropped.get(row.id);
              return (
                <li key={i} className={drop ? 'dropped-row' : undefined} data-dropped={drop?.reason}>
                  {drop && (
                    <p className="warn small" data-testid="row-dropped">
                      Dropped, not trained: {DROP_REASONS[drop.reason] ?? drop.reason}. <span className="muted">{drop.message}</span>
                    </p>
                  )}
                  <RowView row={row} />
                </li>
              );
            })}
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
