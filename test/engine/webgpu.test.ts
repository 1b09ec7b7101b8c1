// Placement: every gradient rule's forward+backward graph, and the whole tiny block, built in float32 and run on
// onnxruntime-node's WebGPU EP (SwiftShader) with CPU fallback disabled, so session creation fails if any node the
// rules emit cannot run on the GPU. Results must match the CPU EP.
import { describe, expect, it } from 'vitest';
import { buildGradGraph } from './gradcheck.ts';
import type { GradCheckCase } from './gradcheck.ts';
import { RULE_CASES } from './rule-cases.ts';
import { BLOCK_INPUTS, BLOCK_PARAMS, block } from './tiny-block.ts';
import { WEBGPU_AVAILABLE, runGraph } from './run-graph.ts';
import { OP_CASES } from './op-cases.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';

async function sameOnBothEps(c: GradCheckCase): Promise<void> {
  const { graph, feeds } = buildGradGraph(c, 'float32');
  const cpu = await runGraph(graph, feeds, 'cpu');
  const gpu = await runGraph(graph, feeds, 'webgpu');
  for (const o of graph.outputs) {
    const a = cpu[o.value.name]!.data;
    const b = gpu[o.value.name]!.data;
    expect(b.length).toBe(a.length);
    const scale = Math.max(1, ...a.map(Math.abs));
    a.forEach((x, i) => {
      if (Math.abs(x - b[i]!) > 1e-4 * scale) expect.fail(`${o.value.name}[${i}]: cpu ${x} vs webgpu ${b[i]}`);
    });
  }
}

describe.skipIf(!WEBGPU_AVAILABLE)('gradient graphs run wholly on WebGPU (CPU fallback disabled) and match CPU', () => {
  for (const c of RULE_CASES) {
    it(`${c.op}${c.title ? ` (${c.title})` : ''}`, () => sameOnBothEps(c));
  }
  it('the tiny decoder block with all parameter gradients', () => sameOnBothEps({ inputs: BLOCK_INPUTS, wrt: BLOCK_PARAMS, build: block, seed: 7 }));
});

describe.skipIf(!WEBGPU_AVAILABLE)('every op constructor runs on WebGPU (float32, CPU fallback disabled) and matches CPU', () => {
  const x = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
  const y = Array.from({ length: 12 }, (_, i) => Math.cos(i));
  for (const [name, f] of Object.entries(OP_CASES)) {
    it(name, async () => {
      const g = new GraphBuilder('op');
      g.output(f(g, g.input('x', 'float32', [3, 4]), g.input('y', 'float32', [3, 4])), 'out');
      const graph = g.build();
      const cpu = (await runGraph(graph, { x, y }, 'cpu')).out!;
      const gpu = (await runGraph(graph, { x, y }, 'webgpu')).out!;
      expect(gpu.dims).toEqual(cpu.dims);
      cpu.data.forEach((v, i) => expect(gpu.data[i]).toBeCloseTo(v, 4));
    });
  }
});
