// The memory bill before download: weights, trainable parameters, gradients, AdamW moments, activations and the
// total for the run's batch × max length, and whether it fits the limits the capability probe reported — with a
// refusal that gives the numbers when it does not.
import { useApp } from '../app-context';
import { ErrorNote } from '../Panel';
import { formatBytes, formatCount } from '../format';
import { memoryFit, trainingBackend } from '../../store/model-panel';
import type { MemoryEstimate } from '../../worker/protocol';

export function MemoryBill({ memory }: { memory: MemoryEstimate }) {
  const capability = useApp((s) => s.capability);
  const choice = useApp((s) => s.backendChoice);
  const memoryState = useApp((s) => s.memoryState);
  const fit = memoryFit(memory, capability, choice);
  const { batch, seqLen, lora } = memory.shape;
  const rows: [string, string, number, string?][] = [
    memory.weightCopies > 1
      ? ['Weights', `frozen, float32: ${memory.weightCopies} copies, one per WASM session that holds them`, memory.weightBytes * memory.weightCopies]
      : ['Weights', 'frozen, float32', memory.weightBytes],
    ['Trainable', `${formatCount(memory.trainableParams)} LoRA parameters`, memory.trainableBytes],
    ['Gradients', 'one per trainable parameter', memory.gradientBytes],
    ['Optimizer', 'AdamW: two moments', memory.optimizerBytes],
    ['Activations', 'kept for the backward pass', memory.activationBytes, memory.activationNote],
  ];
  return (
    <section className="memory" aria-labelledby="memory-title" data-testid="memory-bill">
      <h3 id="memory-title" className="subhead">Memory bill</h3>
      <table className="kv bill">
        <caption className="muted small">
          Batch {batch} × max length {seqLen}, LoRA r {lora.r} on {lora.targets.join(', ')}
          {memoryState.status === 'loading' ? ' (updating…)' : ''}
        </caption>
        <tbody>
          {rows.map(([name, what, bytes, note]) => (
            <tr key={name} title={note}>
              <th scope="row">{name} <span className="muted">— {what}</span></th>
              <td>{formatBytes(bytes)}</td>
            </tr>
          ))}
          <tr className="total">
            <th scope="row">Total</th>
            <td data-testid="memory-total">{formatBytes(memory.totalBytes)}</td>
          </tr>
        </tbody>
      </table>
      <p className="small muted">
        Largest single tensor: <code>{memory.largestTensorName}</code>, {formatBytes(memory.largestTensorBytes)} in one buffer.
      </p>
      {fit.verdict === 'refused' ? (
        <ErrorNote>
          <strong>Does not fit this device.</strong>{' '}
          {fit.problems.join(' ')}
        </ErrorNote>
      ) : fit.verdict === 'fits' ? (
        <p className="small ok" data-testid="memory-fit">
          Fits the {trainingBackend(capability, choice) === 'webgpu' ? 'WebGPU adapter’s buffer limits' : '4 GiB WebAssembly memory limit'}.
          {fit.note && <span className="muted"> {fit.note}</span>}
        </p>
      ) : (
        <p className="small muted">{fit.note}</p>
      )}
      {memoryState.status === 'error' && <ErrorNote>The bill could not be updated: {memoryState.message}</ErrorNote>}
    </section>
  );
}
