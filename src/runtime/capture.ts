// Fixed device buffers for graph-captured sessions (browser WebGPU). A captured session replays the command stream
// recorded at capture time, which reads the input buffers bound then: so every input must be a device buffer that
// never changes identity, and new data (batches, scalars, updated state) is written or copied *into* it.
import type { DeviceOps, HostTensor, OrtTensor } from './backend.ts';

export class CaptureBuffers {
  private readonly buffers = new Map<string, OrtTensor>();
  /** Last run's outputs per session, kept until the next run shows whether ORT reuses them (captured) or not. */
  private readonly previous = new Map<string, Record<string, OrtTensor>>();
  private readonly persistent = new Set<unknown>();

  constructor(readonly ops: DeviceOps, private readonly upload: (t: HostTensor) => Promise<OrtTensor>) {}

  /** The fixed buffer for `name`, holding `like`: uploaded on first use, written into (same buffer) afterwards. */
  async write(name: string, like: HostTensor): Promise<OrtTensor> {
    let buf = this.buffers.get(name);
    if (!buf) {
      buf = await this.upload(like);
      this.buffers.set(name, buf);
      return buf;
    }
    this.ops.write(buf, like);
    return buf;
  }

  /**
   * Called after each run of session `key` with its outputs (already copied where they are needed). Outputs whose
   * GPU buffer reappears in the next run belong to the captured graph and must live on; the others are disposed.
   */
  settle(key: string, outputs: Record<string, OrtTensor>): void {
    const before = this.previous.get(key);
    if (before) {
      const now = new Set(Object.values(outputs).map((t) => t.gpuBuffer));
      for (const t of Object.values(before)) {
        if (now.has(t.gpuBuffer)) this.persistent.add(t.gpuBuffer);
        else if (!this.persistent.has(t.gpuBuffer)) t.dispose();
      }
    }
    this.previous.set(key, outputs);
  }

  release(): void {
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
    for (const outs of this.previous.values()) for (const t of Object.values(outs)) if (!this.persistent.has(t.gpuBuffer)) t.dispose();
    this.previous.clear();
  }
}
