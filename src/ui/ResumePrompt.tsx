// The resume prompt: on start-up asks the worker for a run a closed or reloaded tab left running or paused, and
// offers "Resume run X from step N" (restores every panel, the metrics and samples, and the trainer from the saved
// checkpoint) or "Discard" (deletes that run). Also starts the saved-runs list for the Checkpoints panel.
import { useEffect } from 'react';
import { useActions, useApp } from './app-context';
import { isTraining } from '../store/run';
import type { AppState } from '../store/slices';
import type { AppActions } from './app-context';

const selectBusy = (s: AppState) => s.modelState.status === 'loading' || s.datasetState.status === 'loading' || isTraining(s.phase);

/** Once per app (StrictMode mounts effects twice in development). */
const initialised = new WeakSet<AppActions>();

/** e2e quota spec: `?simulate-quota=<bytes>` makes checkpoint writes beyond that many stored bytes fail for real. */
function simulatedQuota(): number | undefined {
  const raw = new URLSearchParams(location.search).get('simulate-quota');
  if (raw === null) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function ResumePrompt() {
  const actions = useActions();
  const offer = useApp((s) => s.resumeOffer);
  const state = useApp((s) => s.resumeState);
  const busy = useApp(selectBusy);

  useEffect(() => {
    if (initialised.has(actions)) return;
    initialised.add(actions);
    const bytes = simulatedQuota();
    void actions.run.checkpoints.init(bytes !== undefined ? { simulateQuotaBytes: bytes } : {});
  }, [actions]);

  if (state.status === 'error') {
    return (
      <div className="notices">
        <div className="banner error" role="alert" data-testid="resume-error">
          <span>{state.message}</span>
        </div>
      </div>
    );
  }
  if (!offer) return null;
  const latest = offer.checkpoints.find((c) => c.latest) ?? offer.checkpoints.at(-1);
  const step = latest?.step ?? 0;
  const resume = () =>
    void actions.run.checkpoints.resumeOffer(() => Promise.all([actions.reloadModel(), actions.reloadDataset()]), actions.run.resumeStored);
  const restoring = state.status === 'loading';
  return (
    <div className="notices">
      <div className="banner warn" role="region" aria-label="Resume a saved run" data-testid="resume-prompt">
        <span className="resume-text">
          <strong>Resume run {offer.name} from step {step}?</strong>{' '}
          It was {offer.status === 'paused' ? 'paused' : 'still training'} when this tab closed; its checkpoint at step {step} of{' '}
          {offer.config.train.steps} is saved in this browser.
          {restoring && <span role="status"> {state.stage}…</span>}
        </span>
        <span className="row resume-actions">
          <button type="button" onClick={resume} disabled={busy || restoring} data-testid="resume-accept">
            Resume from step {step}
          </button>
          <button type="button" onClick={() => void actions.run.checkpoints.discardOffer()} disabled={restoring} data-testid="resume-discard" title="Delete this saved run and its checkpoints">
            Discard
          </button>
          <button type="button" className="link" aria-label="Not now: keep the saved run and hide this" onClick={() => actions.run.checkpoints.dismissOffer()} disabled={restoring}>
            ×
          </button>
        </span>
      </div>
    </div>
  );
}
