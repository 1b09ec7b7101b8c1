// Training panel: the hyperparameters (schema defaults from src/share/run-config.ts, each with a one-line why), the
// run controls (start, pause, resume, stop), and progress — step, target tokens/s, ETA — plus how the run ended.
import { useState, type ChangeEvent } from 'react';
import { useShallow } from 'zustand/shallow';
import { useActions, useApp, useStoreApi } from '../app-context';
import { ErrorNote, Panel, Progress } from '../Panel';
import { formatCount } from '../format';
import { selectProgress } from '../../store/selectors';
import { isTraining } from '../../store/run';
import type { BackendChoice } from '../../worker/protocol';
import { FULL_GROUPS, runConfigSchema, SCHEDULES, type RunConfig } from '../../share/run-config';
import { count } from '../../share/wording';

interface FieldSpec {
  key: string;
  label: string;
  help: string;
  get(c: RunConfig): number;
  set(c: RunConfig, v: number): RunConfig;
  step?: number;
}

const train = (k: keyof RunConfig['train'], label: string, help: string, step = 1): FieldSpec => ({
  key: `train.${k}`, label, help, step,
  get: (c) => c.train[k] as number,
  set: (c, v) => ({ ...c, train: { ...c.train, [k]: v } }),
});
const lora = (k: 'r' | 'alpha' | 'dropout', label: string, help: string, step = 1): FieldSpec => ({
  key: `lora.${k}`, label, help, step,
  get: (c) => c.lora[k],
  set: (c, v) => ({ ...c, lora: { ...c.lora, [k]: v } }),
});

const FIELDS: FieldSpec[] = [
  train('steps', 'Steps', 'Optimizer updates in the run.'),
  train('batchSize', 'Batch size', 'Examples per micro-batch: the step graph’s fixed batch dimension.'),
  train('gradAccum', 'Grad accumulation', 'Micro-batches per update; the loss is averaged over all their target tokens.'),
  train('lr', 'Learning rate', 'Peak rate. LoRA tolerates rates ~10× higher than full fine-tuning.', 0.0001),
  train('warmupSteps', 'Warm-up steps', 'Linear ramp from 0 to the peak rate, so early noisy gradients move little.'),
  train('weightDecay', 'Weight decay', 'AdamW’s decoupled decay, pulling adapter weights towards 0.', 0.01),
  train('maxGradNorm', 'Max grad norm', 'Clips the global gradient norm (0 = off); guards against loss spikes.', 0.1),
  train('evalEvery', 'Eval every', 'Steps between eval-loss measurements on the held-out split (0 = never).'),
  train('sampleEvery', 'Sample every', 'Steps between generations of the fixed prompts (0 = only before training).'),
  // saved runs
  train('checkpointEvery', 'Checkpoint every', 'Steps between checkpoints saved in this browser (also on pause, stop and the end; 0 = only then).'),
  lora('r', 'LoRA rank r', 'Inner size of the A·B update: capacity of the adapter.'),
  lora('alpha', 'LoRA alpha', 'The update is scaled by alpha / r.'),
  lora('dropout', 'LoRA dropout', 'Dropout on the adapter’s input during training.', 0.05),
  { key: 'seed', label: 'Seed', help: 'Fixes LoRA init, data order and the eval split: same seed, same run.', get: (c) => c.seed, set: (c, v) => ({ ...c, seed: v }) },
  { key: 'evalFraction', label: 'Eval fraction', help: 'Share of examples held out for eval loss and sample prompts.', step: 0.05, get: (c) => c.evalFraction, set: (c, v) => ({ ...c, evalFraction: v }) },
];

function Field({ spec, config, disabled }: { spec: FieldSpec; config: RunConfig; disabled: boolean }) {
  const api = useStoreApi();
  const [invalid, setInvalid] = useState<string | null>(null);
  const id = `hp-${spec.key.replace('.', '-')}`;
  const onChange = (ev: ChangeEvent<HTMLInputElement>) => {
    const next = spec.set(api.getState().runConfig, Number(ev.target.value));
    const parsed = ev.target.value.trim() === '' ? null : runConfigSchema.safeParse(next);
    if (parsed?.success) {
      setInvalid(null);
      api.getState().setRunConfig(parsed.data);
    } else {
      setInvalid(parsed?.error.issues[0]?.message ?? 'required');
    }
  };
  return (
    <div className="field-row">
      <label htmlFor={id}>{spec.label}</label>
      <input id={id} type="number" step={spec.step ?? 1} defaultValue={spec.get(config)} onChange={onChange} disabled={disabled}
        aria-invalid={invalid !== null} aria-describedby={`${id}-help`} data-testid={id} />
      <span id={`${id}-help`} className={invalid ? 'help error-text' : 'help'}>{invalid ? `Invalid: ${invalid}` : spec.help}</span>
    </div>
  );
}

function Hyperparameters({ disabled }: { disabled: boolean }) {
  const api = useStoreApi();
  const config = useApp((s) => s.runConfig);
  return (
    <details className="hyper" open>
      <summary>Hyperparameters</summary>
      <div className="fields-grid">
        <div className="field-row">
          <label htmlFor="hp-schedule">Schedule</label>
          <select id="hp-schedule" value={config.train.schedule} disabled={disabled}
            onChange={(e) => api.getState().setRunConfig({ ...config, train: { ...config.train, schedule: e.target.value as RunConfig['train']['schedule'] } })}>
            {SCHEDULES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
          <span className="help">Learning-rate shape after warm-up.</span>
        </div>
        {FIELDS.map((f) => <Field key={f.key} spec={f} config={config} disabled={disabled} />)}
        <FullTensors config={config} disabled={disabled} />
      </div>
    </details>
  );
}

const GROUP_LABEL: Record<(typeof FULL_GROUPS)[number], string> = { norms: 'norms', biases: 'biases', embeddings: 'embeddings', head: 'LM head' };

/** Base tensors trained in full beside the adapter: whole groups, and every tensor of the layers listed. */
function FullTensors({ config, disabled }: { config: RunConfig; disabled: boolean }) {
  const api = useStoreApi();
  const [layersText, setLayersText] = useState(config.full.layers.join(', '));
  const [invalid, setInvalid] = useState(false);
  const setFull = (full: RunConfig['full']) => api.getState().setRunConfig({ ...api.getState().runConfig, full });
  const toggle = (g: (typeof FULL_GROUPS)[number], on: boolean) => {
    const groups = FULL_GROUPS.filter((x) => (x === g ? on : config.full.groups.includes(x)));
    setFull({ ...config.full, groups });
  };
  const onLayers = (ev: ChangeEvent<HTMLInputElement>) => {
    setLayersText(ev.target.value);
    const parts = ev.target.value.split(',').map((x) => x.trim()).filter(Boolean);
    const layers = parts.map((x) => (/^\d{1,4}$/.test(x) ? Number(x) : NaN));
    const ok = layers.every((n) => Number.isInteger(n));
    setInvalid(!ok);
    if (ok) setFull({ ...config.full, layers });
  };
  return (
    <div className="field-row full-tensors" role="group" aria-labelledby="hp-full-label" data-testid="hp-full">
      <span id="hp-full-label" className="label">Also train in full</span>
      <span className="full-groups">
        {FULL_GROUPS.map((g) => (
          <label key={g} className="inline small">
            <input type="checkbox" checked={config.full.groups.includes(g)} disabled={disabled} onChange={(e) => toggle(g, e.target.checked)}
              data-testid={`hp-full-${g}`} />
            {GROUP_LABEL[g]}
          </label>
        ))}
        <label className="inline small">
          layers
          <input type="text" inputMode="numeric" size={8} value={layersText} onChange={onLayers} disabled={disabled} placeholder="e.g. 0, 3"
            aria-invalid={invalid} data-testid="hp-full-layers" />
        </label>
      </span>
      <span className="help">
        {invalid ? 'Layer numbers, comma-separated.' : 'Base tensors updated with the adapter (AdamW state for each); exported beside it as full_tensors.safetensors.'}
      </span>
    </div>
  );
}

function formatEta(s: number | null): string {
  if (s === null) return '—';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
}

const CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'wasm'];

function BackendPicker({ disabled }: { disabled: boolean }) {
  const api = useStoreApi();
  const choice = useApp((s) => s.backendChoice);
  const cap = useApp((s) => s.capability);
  const gpu = cap?.webgpu.available ?? true;
  const auto = cap ? (cap.backend === 'webgpu' ? 'WebGPU' : 'WASM') : '…';
  return (
    <>
      <label className="inline small">
        Train on
        <select value={choice} disabled={disabled} data-testid="backend-choice" onChange={(e) => api.getState().setBackendChoice(CHOICES.find((c) => c === e.target.value) ?? 'auto')}>
          <option value="auto">Automatic ({auto})</option>
          <option value="webgpu" disabled={!gpu}>{gpu ? 'WebGPU' : 'WebGPU (unavailable)'}</option>
          <option value="wasm">WASM (CPU)</option>
        </select>
      </label>
      {choice === 'auto' && cap?.backendNote && <p className="small muted" data-testid="backend-note">{cap.backendNote}</p>}
    </>
  );
}

function Controls() {
  const { run } = useActions();
  const phase = useApp((s) => s.phase);
  const prepared = useApp((s) => s.prepared);
  const preparing = useApp((s) => s.preparedState).status === 'loading';
  const canStart = prepared !== null && prepared.trainCount > 0 && !isTraining(phase) && !preparing;
  const canResume = phase === 'paused';
  return (
    <div className="row controls" role="toolbar" aria-label="Run controls">
      <button type="button" onClick={() => void run.start()} disabled={!canStart} data-testid="train-start">Start</button>
      <button type="button" className="secondary" onClick={() => void run.pause()} disabled={phase !== 'running'} data-testid="train-pause">Pause</button>
      <button type="button" className="secondary" onClick={() => void run.resume()} disabled={!canResume} data-testid="train-resume">Resume</button>
      <button type="button" className="secondary" onClick={() => void run.stop()} disabled={!(isTraining(phase) || phase === 'paused')} data-testid="train-stop">Stop</button>
      <span className={`phase phase-${phase}`} data-testid="train-phase">{phase}</span>
    </div>
  );
}

function RunProgress() {
  const p = useApp(useShallow(selectProgress));
  const trainer = useApp((s) => s.trainer);
  const state = useApp((s) => s.trainerState);
  const phase = useApp((s) => s.phase);
  return (
    <div className="run-progress">
      <progress max={p.totalSteps} value={p.step} aria-label="Training progress" />
      <div className="row small stats" data-testid="train-progress">
        <span>step <strong data-testid="train-step">{p.step}</strong> / {p.totalSteps}</span>
        <span>{p.tokensPerSecond === null ? '— tok/s' : `${p.tokensPerSecond.toFixed(1)} target tok/s`}</span>
        <span>ETA {isTraining(phase) ? formatEta(p.etaSeconds) : '—'}</span>
      </div>
      {phase === 'starting' && state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {trainer && (
        <p className="small muted" data-testid="trainer-info">
          {trainer.backendLabel} · batch {trainer.batch} × {trainer.seqLen} tokens · {formatCount(trainer.trainableParameters)} trainable
          parameters in {count(trainer.trainableTensors, 'tensor')}{trainer.fallbackReason ? ` · ${trainer.fallbackReason}` : ''}
        </p>
      )}
    </div>
  );
}

export function TrainingPanel() {
  const phase = useApp((s) => s.phase);
  const outcome = useApp((s) => s.outcome);
  const locked = isTraining(phase) || phase === 'paused';
  return (
    <Panel id="training" step={5} title="Training">
      <Controls />
      <BackendPicker disabled={locked} />
      <RunProgress />
      {outcome?.message && (
        <div data-testid="train-outcome">
          {outcome.reason === 'stopped' ? <p className="small muted">{outcome.message}</p> : <ErrorNote>{outcome.message}</ErrorNote>}
        </div>
      )}
      {outcome?.reason === 'completed' && <p className="ok small">Finished {count(outcome.step, 'step')}.</p>}
      <Hyperparameters disabled={locked} />
    </Panel>
  );
}
