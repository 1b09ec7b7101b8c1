// Downloading the weights before training, as a bar with bytes: the files go into the browser's cache, where the
// trainer reads them later, so the wait happens here, with numbers, instead of behind "Start".
import { useActions, useApp } from '../app-context';
import { ErrorNote } from '../Panel';
import { formatBytes } from '../format';
import type { ModelSummary } from '../../worker/protocol';

export function WeightsDownload({ model }: { model: ModelSummary }) {
  const { model: actions } = useActions();
  const state = useApp((s) => s.downloadState);
  const downloaded = useApp((s) => s.downloaded);
  // The same files the worker downloads: the shards and their index.
  const size = model.files.filter((f) => /\.safetensors(\.index\.json)?$/.test(f.path)).reduce((n, f) => n + f.size, 0);
  const done = downloaded?.sha === model.sha;
  return (
    <div className="download" data-testid="weights-download">
      {state.status === 'loading' ? (
        <div className="progress" role="status">
          <span>{state.stage}</span>
          <progress max={state.total ?? undefined} value={state.total ? state.loaded : undefined} aria-label="Weights download" />
          <span className="bytes" data-testid="download-bytes">
            {formatBytes(state.loaded)}{state.total ? ` of ${formatBytes(state.total)}` : ''}
          </span>
        </div>
      ) : (
        <div className="row">
          <button type="button" className="secondary" onClick={() => void actions.download()} disabled={model.support?.supported === false}>
            {done ? 'Download again' : 'Download weights'} ({formatBytes(size)})
          </button>
          {done && <span className="small ok" data-testid="download-done">{formatBytes(downloaded.bytes)} in the cache</span>}
        </div>
      )}
      {state.status === 'error' && <ErrorNote>Download failed: {state.message}</ErrorNote>}
    </div>
  );
}
