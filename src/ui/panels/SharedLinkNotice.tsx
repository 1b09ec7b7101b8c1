// The notice at the top of the page when it was opened with a share link: what the link restored (and what differs
// here), a "Start this run" button, a file chooser when the run's data was too large for the link, or — for a
// tampered, oversized or too-new link — why it was refused, while the app goes on with the saved settings.
import type { ChangeEvent } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import { isTraining } from '../../store/run';


function Dismiss() {
  const api = useStoreApi();
  return (
    <button type="button" className="link" aria-label="Dismiss the share link notice" onClick={() => api.getState().setIncomingLink({ status: 'none' })}>×</button>
  );
}

function StartShared() {
  const { run } = useActions();
  const phase = useApp((s) => s.phase);
  const prepared = useApp((s) => s.prepared);
  const ready = useApp((s) => s.preparedState).status === 'ready';
  const canStart = ready && prepared !== null && prepared.trainCount > 0 && !isTraining(phase);
  return (
    <button type="button" onClick={() => void run.start()} disabled={!canStart} data-testid="start-shared-run">
      {ready || isTraining(phase) ? 'Start this run' : 'Preparing…'}
    </button>
  );
}

/** Where the restored run came from: a share link, or an imported run zip (by file name). */
function opened(from: string): string {
  return from === 'link' ? 'Opened a shared run:' : `Imported ${from}:`;
}

export function SharedLinkNotice() {
  const incoming = useApp((s) => s.incomingLink);
  const { share } = useActions();
  if (incoming.status === 'none') return null;
  if (incoming.status === 'error') {
    return (
      <div className="notices">
        <div className="banner error" role="alert" data-testid="link-error">
          <span className="shared-run">
            <span><strong>This share link could not be opened.</strong></span>
            <span className="pre-line">{incoming.message}</span>
            <span>TabTune opened with your saved settings instead; everything else works as usual.</span>
          </span>
          <Dismiss />
        </div>
      </div>
    );
  }
  if (incoming.status === 'needs-file') {
    const onFile = (ev: ChangeEvent<HTMLInputElement>) => {
      const file = ev.target.files?.[0];
      ev.target.value = '';
      if (file) void file.arrayBuffer().then((b) => share.supplyFile({ name: file.name, bytes: new Uint8Array(b) }));
    };
    return (
      <div className="notices">
        <div className="banner warn" role="status" data-testid="link-needs-file">
          <span className="shared-run">
            <span><strong>{opened(incoming.from)}</strong> {incoming.summary}.</span>
            <span>
              It was trained on <code>{incoming.ref.name}</code>, which is too large to travel in a link. Choose that file; it is
              checked against the link&apos;s sha256 <code>{incoming.ref.hash.slice(0, 12)}…</code>.
            </span>
            {incoming.problem && <span className="share-error" role="alert">{incoming.problem}</span>}
            <label className="button secondary file-choice">
              Choose {incoming.ref.name}…
              <input type="file" onChange={onFile} className="sr-only" data-testid="link-file" />
            </label>
          </span>
          <Dismiss />
        </div>
      </div>
    );
  }
  return (
    <div className="notices">
      <div className="banner info" role="status" data-testid="link-restored">
        <span className="shared-run">
          <span><strong>{opened(incoming.from)}</strong> <span data-testid="link-summary">{incoming.summary}</span>.</span>
          <span>Every panel shows its settings; where it trains (WebGPU or WASM) is still your choice.</span>
          {incoming.notes.map((n) => <span key={n} className="share-warn">{n}</span>)}
          {/* An imported zip continues from its checkpoint (Share & export panel); a link starts afresh. */}
          {incoming.from === 'link' && <span className="row"><StartShared /></span>}
        </span>
        <Dismiss />
      </div>
    </div>
  );
}
