// Checkpoints panel: saved runs live in this browser's storage. Shows the storage the origin uses and its quota now
// (navigator.storage.estimate); the checkpoint list joins it once runs are saved.
import { useEffect, useState } from 'react';
import { Empty, Facts, Panel } from '../Panel';
import { formatBytes } from '../format';

interface Estimate {
  usage: number;
  quota: number;
  persisted: boolean;
}

function useStorageEstimate(): Estimate | 'unavailable' | null {
  const [estimate, setEstimate] = useState<Estimate | 'unavailable' | null>(null);
  useEffect(() => {
    let live = true;
    const storage = navigator.storage as StorageManager | undefined;
    if (!storage?.estimate) {
      queueMicrotask(() => live && setEstimate('unavailable'));
      return () => { live = false; };
    }
    Promise.all([storage.estimate(), storage.persisted?.() ?? Promise.resolve(false)])
      .then(([e, persisted]) => live && setEstimate({ usage: e.usage ?? 0, quota: e.quota ?? 0, persisted }))
      .catch(() => live && setEstimate('unavailable'));
    return () => { live = false; };
  }, []);
  return estimate;
}

export function CheckpointsPanel() {
  const estimate = useStorageEstimate();
  return (
    <Panel id="checkpoints" step={8} title="Checkpoints">
      <Empty>No checkpoints saved in this browser yet. A run saves its adapter and optimizer state here every N steps.</Empty>
      {estimate === 'unavailable' && <p className="muted small">This browser does not report storage use.</p>}
      {estimate && estimate !== 'unavailable' && (
        <Facts rows={[
          ['storage used', formatBytes(estimate.usage)],
          ['quota', formatBytes(estimate.quota)],
          ['persistent', estimate.persisted ? 'yes' : 'no (the browser may evict it under pressure)'],
        ]} />
      )}
    </Panel>
  );
}
