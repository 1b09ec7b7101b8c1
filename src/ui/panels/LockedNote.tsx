// A run's inputs are frozen while it exists (running or paused): the controls that would change them sit in a
// disabled fieldset, with one line that says why and how to unlock them.
import type { ReactNode } from 'react';
import { useApp } from '../app-context';
import { selectInputsLocked } from '../../store/selectors';

export function LockedNote({ what }: { what: string }) {
  return (
    <p className="muted small" role="note" data-testid="inputs-locked">
      The {what} is fixed while a run is training or paused, so its adapter, exports and links name what it trained on. Stop the run to change it.
    </p>
  );
}

/** Disables its controls while a run exists; `note` names what is fixed, shown above them. */
export function LockedFieldset({ note, children }: { note?: string; children: ReactNode }) {
  const locked = useApp(selectInputsLocked);
  return (
    <fieldset className="plain" disabled={locked}>
      {locked && note && <LockedNote what={note} />}
      {children}
    </fieldset>
  );
}
