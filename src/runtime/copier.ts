// Host⇄device copies done with ORT itself: an Identity graph per (dtype, shape), with its output placed on the device
// (upload) or on the host (download). Used where the backend gives no GPUDevice handle (onnxruntime-node) and where
// Tensor.getData() on a GPU tensor is unsafe (onnxruntime-node 1.30 aborts the process). Graphs come from the engine.
import { GraphBuilder } from '../engine/graph.ts';
import { serializeGraph } from '../engine/onnx.ts';
import type { DType } from '../engine/ir.ts';
import type { OrtTensor, RuntimeSession, SessionConfig } from './backend.ts';

type SessionFactory = (model: Uint8Array, config: SessionConfig) => Promise<RuntimeSession>;

/** An Identity graph `x -> y` for one dtype and shape. */
export function identityModel(dtype: DType, dims: readonly number[]): Uint8Array {
  const b = new GraphBuilder('copy');
  const x = b.input('x', dtype, dims);
  b.output(x, 'y');
  return serializeGraph(b.build());
}

export class DeviceCopier {
  private readonly sessions = new Map<string, Promise<RuntimeSession>>();

  constructor(private readonly create: SessionFactory) {}

  /** Copies a host tensor into a new device tensor. */
  async toDevice(t: OrtTensor): Promise<OrtTensor> {
    return this.copy(t, true);
  }

  /** Copies a device tensor into a new host tensor; the device tensor stays valid. */
  async toHost(t: OrtTensor): Promise<OrtTensor> {
    return this.copy(t, false);
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }

  private async copy(t: OrtTensor, toDevice: boolean): Promise<OrtTensor> {
    const dtype = t.type as DType;
    const key = `${toDevice ? 'up' : 'down'}|${dtype}|${t.dims.join(',')}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = this.create(identityModel(dtype, t.dims), { deviceOutputs: toDevice ? ['y'] : [] });
      this.sessions.set(key, session);
    }
    const out = await (await session).run({ x: t });
    const y = out.y;
    if (!y) throw new Error(`copy session for ${key} returned no output "y"`);
    return y;
  }
}
