// Data panel: pick a bundled sample dataset or upload a file, then see what the worker read — size, content hash,
// detected format, row count, problems by line, and the first rows as they are in the file.
import type { ChangeEvent } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import { Empty, ErrorNote, Facts, Panel, Progress } from '../Panel';
import { formatBytes } from '../format';
import { selectBundledDatasets, selectDataset, selectDatasetChoice, selectDatasetState } from '../../store/selectors';
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
  return (
    <>
      <div className="row picker">
        <label className="grow">
          <span className="sr-only">Bundled dataset</span>
          <select value={choice?.kind === 'bundled' ? choice.file : ''} onChange={onSelect} aria-label="Bundled dataset">
            {choice?.kind === 'upload' && <option value="">Uploaded: {choice.name}</option>}
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
    </>
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
              ['file', `${dataset.fileFormat}, ${formatBytes(dataset.bytes)}`],
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
          <ol className="rows" data-testid="dataset-preview" aria-label="First rows">
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
