// Checkpoints panel: the runs saved in this browser (IndexedDB, written by the worker) with their checkpoints — step,
// time, train and eval loss, size, the latest and the best-by-eval-loss ones — delete buttons to free space, storage
// use against the quota, and the message of a checkpoint that did not fit.
import { useEffect, useState } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import { Empty, ErrorNote, Facts, Panel, Progress } from '../Panel';
import { formatBytes } from '../format';
import { isTraining } from '../../store/run';
import type { AppState } from '../../store/slices';
import type { StoredCheckpoint, StoredRun } from '../../worker/protocol';

const selectTraining = (s: AppState) => isTraining(s.phase);

function usePersisted(): boolean | null {
  const [persisted, setPersisted] = useState<boolean | null>(null);
  useEffect(() => {
    let live = true;
    const storage = navigator.storage as StorageManager | undefined;
    storage?.persisted?.().then((p) => live && setPersisted(p)).catch(() => undefined);
    return () => { live = false; };
  }, []);
  return persisted;
}

function loss(v: number | undefined): string {
  return v === undefined ? '—' : v.toFixed(4);
}

/** The panel is narrow: the time of day in the cell, the full date on hover. */
function time(iso: string): { short: string; full: string } {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return { short: iso, full: iso };
  return { short: d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }), full: d.toLocaleString() };
}

function CheckpointRow(props: { c: StoredCheckpoint; disabled: boolean; training: boolean; loaded: boolean; onLoad(): void }) {
  const { run } = useActions();
  const { c } = props;
  const at = time(c.createdAt);
  return (
    <tr data-testid="checkpoint-row" data-step={c.step}>
      <td>
        {c.step}
        {c.best && <> <span className="badge" title="Lowest eval loss of the run (load_best_model_at_end)">best</span></>}
        {c.latest && <> <span className="badge latest">latest</span></>}
      </td>
      <td title={at.full}>{at.short}</td>
      <td>{loss(c.trainLoss)}</td>
      <td>{loss(c.evalLoss)}</td>
      <td>{formatBytes(c.bytes)}</td>
      <td className="checkpoint-actions">
        <button type="button" className="secondary" disabled={props.training} data-testid="checkpoint-load"
          aria-label={`Load the checkpoint at step ${c.step} and sample from it`}
          title="Load it: samples from it appear in the Samples panel; then Resume trains on from it, and the Share panel exports or pushes its adapter"
          onClick={props.onLoad}>{props.loaded ? 'Loaded' : 'Load'}</button>
        <button type="button" className="link" disabled={props.disabled} aria-label={`Delete the checkpoint at step ${c.step}`}
          title="Delete this checkpoint" onClick={() => void run.checkpoints.deleteCheckpoint(c.id)}>✕</button>
      </td>
    </tr>
  );
}

function RunCard(props: { run: StoredRun; active: boolean; training: boolean; loaded: string | null; onLoad(checkpointId: string): void }) {
  const { run: actions } = useActions();
  const r = props.run;
  return (
    <li className="saved-run" data-testid="saved-run" data-run-id={r.id}>
      <strong className="saved-run-name">{r.name}</strong>
      <div className="row">
        <span className="muted small grow">{r.status} · {time(r.createdAt).full} · {r.checkpoints.length} checkpoint{r.checkpoints.length === 1 ? '' : 's'} · {formatBytes(r.bytes)}</span>
        <button type="button" className="link" disabled={props.active} aria-label={`Delete run ${r.name} and all its checkpoints`}
          onClick={() => void actions.checkpoints.deleteRun(r.id)}>Delete run</button>
      </div>
      {r.checkpoints.length > 0 && (
        <table className="checkpoints-table">
          <caption className="sr-only">Checkpoints of {r.name}</caption>
          <thead>
            <tr><th scope="col">step</th><th scope="col">saved</th><th scope="col">train loss</th><th scope="col">eval loss</th><th scope="col">size</th><th scope="col"><span className="sr-only">actions</span></th></tr>
          </thead>
          <tbody>
            {[...r.checkpoints].reverse().map((c) => (
              <CheckpointRow key={c.id} c={c} disabled={props.active && c.latest} training={props.training} loaded={props.loaded === c.id} onLoad={() => props.onLoad(c.id)} />
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}

export function CheckpointsPanel() {
  const saved = useApp((s) => s.savedRuns);
  const state = useApp((s) => s.savedRunsState);
  const storageError = useApp((s) => s.storageError);
  const training = useApp(selectTraining);
  const persisted = usePersisted();
  const space = saved?.space ?? null;
  const { run, exporting } = useActions();
  const apiState = useStoreApi().getState;
  const trainerState = useApp((s) => s.trainerState);
  const exportState = useApp((s) => s.exportState);
  const [loaded, setLoaded] = useState<{ runId: string; checkpointId: string; step: number } | null>(null);
  const [loading, setLoading] = useState(false);
  const load = (runId: string, checkpointId: string, step: number) => {
    setLoading(true);
    setLoaded(null);
    void run.openCheckpoint(runId, checkpointId).then(() => {
      setLoading(false);
      if (apiState().trainerState.status === 'ready' && apiState().phase === 'paused') setLoaded({ runId, checkpointId, step });
    });
  };

  return (
    <Panel id="checkpoints" step={8} title="Checkpoints">
      {storageError && (
        <div className="banner error" role="alert" data-testid="storage-error">
          <span>{storageError}</span>
        </div>
      )}
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {saved && saved.runs.length === 0 && (
        <Empty>No runs saved in this browser yet. Training saves the adapter and optimizer state here every N steps (Training panel: checkpoint every) and on pause, stop and completion.</Empty>
      )}
      {saved && saved.runs.length > 0 && (
        <ul className="saved-runs" aria-label="Saved runs">
          {saved.runs.map((r, i) => (
            <RunCard key={r.id} run={r} active={training && i === 0} training={training || loading}
              loaded={loaded?.runId === r.id ? loaded.checkpointId : null}
              onLoad={(checkpointId) => load(r.id, checkpointId, r.checkpoints.find((c) => c.id === checkpointId)?.step ?? 0)} />
          ))}
        </ul>
      )}
      {loading && trainerState.status === 'loading' && <Progress stage={trainerState.stage} loaded={trainerState.loaded} total={trainerState.total} />}
      {!loading && trainerState.status === 'error' && trainerState.message.startsWith('Could not load the checkpoint') && <ErrorNote>{trainerState.message}</ErrorNote>}
      {loaded && !training && (
        <div className="loaded-checkpoint" data-testid="checkpoint-loaded">
          <p className="small ok">Loaded the checkpoint at step {loaded.step}: its samples are in the Samples panel, and Resume (Training panel) trains on from it.</p>
          <div className="row">
            <button type="button" className="secondary" onClick={() => void exporting.exportRun({ adapterOnly: true })} disabled={exportState.status === 'loading'} data-testid="checkpoint-export-adapter">
              Download its adapter (PEFT)
            </button>
            <button type="button" className="secondary" onClick={() => void exporting.exportRun()} disabled={exportState.status === 'loading'} data-testid="checkpoint-export-run">
              Download it as a run zip
            </button>
          </div>
        </div>
      )}
      {saved && (
        <Facts testId="storage-facts" rows={[
          ['checkpoints', formatBytes(saved.totalBytes)],
          ...(space ? [['storage used', `${formatBytes(space.usage)} of ${formatBytes(space.quota)}`] as [string, string]] : [['storage used', 'not reported by this browser'] as [string, string]]),
          ['persistent', persisted === null ? 'unknown' : persisted ? 'yes' : 'no (the browser may evict it under pressure)'],
        ]} />
      )}
    </Panel>
  );
}
