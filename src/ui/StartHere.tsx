// "Start here": a short guide for a first visit, above the panels. Dismissed once, it stays dismissed (remembered in
// localStorage; where storage is blocked it comes back on the next visit, which is harmless).
import { useState } from 'react';
import { PresentIcon } from './Panel';

const START_HERE_KEY = 'tabtune.startHere';

function dismissedBefore(): boolean {
  try {
    return localStorage.getItem(START_HERE_KEY) === 'dismissed';
  } catch {
    return false;
  }
}

export function StartHere() {
  const [open, setOpen] = useState(() => !dismissedBefore());
  if (!open) return null;
  const dismiss = () => {
    setOpen(false);
    try {
      localStorage.setItem(START_HERE_KEY, 'dismissed');
    } catch {
      // Storage blocked: dismissed for this page only.
    }
  };
  return (
    <section className="start-here" aria-labelledby="start-here-title" data-testid="start-here">
      <div className="start-here-text">
        <h2 id="start-here-title">Start here</h2>
        <p>
          A tiny demo model and dataset are already loaded, and everything runs in this tab. Read the panels in their
          numbered order: <strong>1 Model</strong> and <strong>2 Data</strong> say what is being fine-tuned on what;
          <strong> 3 Template &amp; masks</strong> shows each example as tokens — click one to see its id, bytes and
          whether it is trained; <strong>4 Batch inspector</strong> runs one step by hand; <strong>5 Training</strong>
          starts the run, and <strong>6 Charts</strong> and <strong>7 Samples</strong> show what it learns.
        </p>
        <p className="small">
          Each panel&apos;s <strong>?</strong> explains what it shows; <span aria-label="the full-screen button" role="img"><PresentIcon /></span> presents it full screen for a
          projector (Escape leaves).
        </p>
      </div>
      <button type="button" onClick={dismiss} data-testid="start-here-dismiss">Got it</button>
    </section>
  );
}
