// Runtime backends: session creation policy, host/device copies, and that WebGPU sessions refuse CPU fallback.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { serializeGraph } from '../../src/engine/onnx.ts';
import { Add, Mul } from '../../src/engine/ops.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { sessionOptions, type Backend } from '../../src/runtime/backend.ts';
import { webgpuAvailable, WEBGPU_SKIP_REASON } from './webgpu-env.ts';

function addMulModel(): Uint8Array {
  const g = new GraphBuilder('add-mul');
  const x = g.input('x', 'float32', [2, 3]);
  const y = g.input('y', 'float32', [3]);
  const z = Add(g, x, y);
  g.output(z, 'z');
  g.output(Mul(g, z, y), 'w');
  return serializeGraph(g.build());
}

const backends: Backend[] = [];
afterAll(async () => {
  for (const b of backends) await b.release();
});

describe('sessionOptions', () => {
  it('uses the EP object form and disables CPU fallback on WebGPU only', () => {
    const gpu = sessionOptions('webgpu', { deviceOutputs: ['a'] });
    expect(gpu.executionProviders).toEqual([{ name: 'webgpu' }]);
    expect(gpu.extra).toEqual({ session: { disable_cpu_ep_fallback: '1' } });
    expect(gpu.preferredOutputLocation).toEqual({ a: 'gpu-buffer' });
    expect(gpu.enableGraphCapture).toBeUndefined();
    const wasm = sessionOptions('wasm', { deviceOutputs: ['a'] });
    // The CPU pool does not busy-wait between ops (a browser tab shares its cores with everything else).
    expect(wasm.extra).toEqual({ session: { 'intra_op.allow_spinning': '0' } });
    expect(wasm.preferredOutputLocation).toBeUndefined();
    // The native CPU EP (Node only, a process that exists to run the step) keeps ORT's spinning pool.
    expect(sessionOptions('cpu').extra).toEqual({ session: { 'intra_op.allow_spinning': '1' } });
  });
});

for (const kind of ['wasm', 'cpu', 'webgpu'] as const) {
  describe.skipIf(kind === 'webgpu' && !webgpuAvailable)(`node backend ${kind}${kind === 'webgpu' && !webgpuAvailable ? ` (${WEBGPU_SKIP_REASON})` : ''}`, () => {
    it('runs a graph, keeps device outputs on the device, and reads them back', async () => {
      const backend = await createNodeBackend(kind);
      backends.push(backend);
      const session = await backend.createSession(addMulModel(), { deviceOutputs: ['z'] });
      const x = backend.tensor({ dtype: 'float32', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
      const y = await backend.upload({ dtype: 'float32', dims: [3], data: Float32Array.from([1, 2, 3]) });
      const out = await session.run({ x, y });
      expect(out.z!.location).toBe(kind === 'webgpu' ? 'gpu-buffer' : 'cpu');
      expect(out.w!.location).toBe('cpu');
      expect(Array.from((await backend.read(out.z!)).data as Float32Array)).toEqual([2, 4, 6, 5, 7, 9]);
      expect(Array.from((await backend.read(out.w!)).data as Float32Array)).toEqual([2, 8, 18, 5, 14, 27]);
      // A device output fed straight back as the next run's input (state that never leaves the GPU).
      const again = await session.run({ x: out.z!, y });
      expect(Array.from((await backend.read(again.z!)).data as Float32Array)).toEqual([3, 6, 9, 6, 9, 12]);
      out.z!.dispose();
      again.z!.dispose();
      await session.release();
    });

    it('names missing and unknown feeds', async () => {
      const backend = await createNodeBackend(kind);
      backends.push(backend);
      const session = await backend.createSession(addMulModel());
      const x = backend.tensor({ dtype: 'float32', dims: [2, 3], data: new Float32Array(6) });
      await expect(session.run({ x })).rejects.toThrow(/missing feeds "y"/);
      await expect(session.run({ x, y: x, q: x })).rejects.toThrow(/unknown feeds "q"/);
      await session.release();
    });
  });
}

describe.skipIf(!webgpuAvailable)('node backend webgpu guard', () => {
  it('refuses a graph with a node the WebGPU EP would leave to the CPU', async () => {
    const backend = await createNodeBackend('webgpu');
    backends.push(backend);
    const g = new GraphBuilder('cpu-only');
    const x = g.input('x', 'float32', [4]);
    // LogSoftmax has no WebGPU kernel in ORT 1.30 (ort-webgpu.md): with fallback disabled, creation must fail.
    const [y] = g.node({ op: 'LogSoftmax', inputs: [x], outputs: [{ dtype: 'float32', shape: [4] }] });
    g.output(y!, 'y');
    await expect(backend.createSession(serializeGraph(g.build()))).rejects.toThrow(/fallback to CPU EP has been explicitly disabled/);
  });

  it('refuses graph capture on Node with a reason', async () => {
    const backend = await createNodeBackend('webgpu');
    backends.push(backend);
    await expect(backend.createSession(addMulModel(), { graphCapture: true })).rejects.toThrow(/graph capture is not available on Node/);
  });
});
