// Device panel: what the worker's WebGPU probe found — adapter identity, the limits that bound model size, the
// features that pick kernels (shader-f16, subgroups) — or why WebGPU is missing. Full limits behind a disclosure.
import { useApp } from '../app-context';
import { ErrorNote, Facts, Panel, Progress } from '../Panel';
import { formatBytes } from '../format';
import type { AdapterSummary } from '../../worker/protocol';
import { count } from '../../share/wording';

/** Limits that bound what fits: one buffer (a weight shard), one binding, shared memory, workgroup size. */
const KEY_LIMITS: [string, boolean][] = [
  ['maxBufferSize', true],
  ['maxStorageBufferBindingSize', true],
  ['maxComputeWorkgroupStorageSize', true],
  ['maxComputeInvocationsPerWorkgroup', false],
];

/** Features that change what TabTune can run; shown present or absent even when the adapter omits them. */
const KEY_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'];

function limit(adapter: AdapterSummary, key: string, bytes = false): string {
  const v = adapter.limits[key];
  if (v === undefined) return 'not reported';
  return bytes ? formatBytes(v) : v.toLocaleString('en-US');
}

function AdapterView({ adapter }: { adapter: AdapterSummary }) {
  const name = [adapter.vendor, adapter.architecture].filter(Boolean).join(' · ') || 'unnamed adapter';
  return (
    <>
      <Facts
        testId="adapter-facts"
        rows={[
          ['adapter', <span key="a" data-testid="adapter-name">{name}</span>],
          ...(adapter.description || adapter.device ? [['description', adapter.description || adapter.device] as [string, string]] : []),
        ]}
      />
      <table className="kv" aria-label="Key limits">
        <tbody>
          {KEY_LIMITS.map(([key, bytes]) => (
            <tr key={key}><th scope="row">{key}</th><td>{limit(adapter, key, bytes)}</td></tr>
          ))}
        </tbody>
      </table>
      <ul className="chips" aria-label="Key features">
        {KEY_FEATURES.map((f) => {
          const on = adapter.features.includes(f);
          return <li key={f} className={on ? 'chip on' : 'chip off'} title={on ? 'supported' : 'not supported'}>{on ? '✓' : '✗'} {f}</li>;
        })}
      </ul>
      {adapter.isFallbackAdapter && <p className="muted small">This is a software (fallback) adapter: correct, but slow.</p>}
      <details className="limits">
        <summary>All {Object.keys(adapter.limits).length} limits and {adapter.features.length} features</summary>
        <div className="scroll">
          <table className="kv">
            <tbody>
              {Object.entries(adapter.limits).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => (
                <tr key={k}><th scope="row">{k}</th><td>{v.toLocaleString('en-US')}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="small muted">Features: {adapter.features.join(', ') || 'none beyond core WebGPU'}</p>
      </details>
    </>
  );
}

export function DevicePanel() {
  const cap = useApp((s) => s.capability);
  const state = useApp((s) => s.capabilityState);
  return (
    <Panel id="device" title="Device" aside={cap && <span className={`badge ${cap.backend}`} data-testid="backend">{cap.backend === 'webgpu' ? 'WebGPU' : 'WASM (CPU)'}</span>}>
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {cap && (cap.webgpu.available ? <AdapterView adapter={cap.webgpu.adapter} /> : (
        <div data-testid="webgpu-missing">
          <p><strong>No WebGPU.</strong> {cap.webgpu.reason}</p>
          <p className="muted small">{cap.webgpu.hint}</p>
        </div>
      ))}
      {cap && (
        <p className="muted small">
          {count(cap.hardwareConcurrency, 'CPU thread')} · {cap.crossOriginIsolated
            ? `cross-origin isolated: WASM trains on ${count(cap.wasmThreads, 'thread')} (every core but one, which the page keeps)`
            : 'not cross-origin isolated: WASM trains on 1 thread'}
        </p>
      )}
    </Panel>
  );
}
