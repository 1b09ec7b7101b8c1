// Training panel: run state, the backend the run will use, and the run controls. Controls stay disabled, with the
// reason shown, until the worker can build a training step.
import { useApp } from '../app-context';
import { Facts, Panel } from '../Panel';
import { selectCapability, selectPhase, selectStep } from '../../store/selectors';

export function TrainingPanel() {
  const phase = useApp(selectPhase);
  const step = useApp(selectStep);
  const cap = useApp(selectCapability);
  const backend = !cap ? 'probing…' : cap.backend === 'webgpu' ? 'WebGPU' : 'WebAssembly (CPU fallback)';
  return (
    <Panel id="training" step={5} title="Training">
      <Facts rows={[['state', phase], ['step', step.toLocaleString('en-US')], ['backend', backend]]} />
      <div className="row">
        <button type="button" disabled title="The training step graph is not available in this version yet.">Start</button>
        <button type="button" className="secondary" disabled>Pause</button>
        <button type="button" className="secondary" disabled>Stop</button>
      </div>
      <p className="muted small">Training is not wired up in this version yet; the controls enable once the worker can build a step.</p>
    </Panel>
  );
}
