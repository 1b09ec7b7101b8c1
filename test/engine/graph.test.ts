// GraphBuilder, printer and ONNX serialisation: deterministic names and bytes, output naming, pruning, constants,
// and the rule that large weights stay graph inputs.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as O from '../../src/engine/ops.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import type { Graph } from '../../src/engine/graph.ts';
import { serializeGraph } from '../../src/engine/onnx.ts';
import { printGraph } from '../../src/engine/print.ts';
import { grad } from '../../src/engine/autodiff.ts';
import { runGraph } from './run-graph.ts';

/** A small MLP with a loss and its gradients: enough structure to expose any ordering nondeterminism. */
function mlp(hidden = 8): Graph {
  const g = new GraphBuilder('mlp');
  const x = g.input('x', 'float32', [4, 6]);
  const w1 = g.input('w1', 'float32', [6, hidden], 'trainable');
  const w2 = g.input('w2', 'float32', [hidden, 2], 'trainable');
  const h = g.scope('layers.0', () => O.Relu(g, O.MatMul(g, x, w1)));
  const y = O.MatMul(g, h, w2);
  const loss = O.ReduceMean(g, O.Mul(g, y, y), []);
  const [d1, d2] = grad(g, loss, [w1, w2]);
  g.output(loss, 'loss');
  g.output(d1!, 'grad.w1');
  g.output(d2!, 'grad.w2');
  return g.build();
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('serialisation', () => {
  it('is byte-identical for identical constructions and differs when the graph differs', () => {
    const a = sha(serializeGraph(mlp()));
    expect(sha(serializeGraph(mlp()))).toBe(a);
    expect(sha(serializeGraph(mlp(9)))).not.toBe(a);
    expect(printGraph(mlp())).toBe(printGraph(mlp()));
  });

  it('keeps large weights as graph inputs, never initializers', () => {
    const g = new GraphBuilder('big');
    const table = g.input('embed_tokens.weight', 'float32', [4096, 512], 'frozen');
    const ids = g.input('ids', 'int32', [3]);
    g.output(O.Gather(g, table, ids, 0), 'rows');
    const graph = g.build();
    const bytes = serializeGraph(graph);
    expect(bytes.length).toBeLessThan(1024);
    expect(graph.initializers).toEqual([]);
    expect(() => g.constant({ dtype: 'float32', shape: [512, 512], data: new Float32Array(512 * 512) })).toThrow(/too large to inline/);
  });

  it('moves chosen inputs into external-data (or inline) initializers that ORT reads once, at session creation', async () => {
    const g = new GraphBuilder('ext');
    const w = g.input('w', 'float32', [3, 2], 'frozen');
    const x = g.input('x', 'float32', [1, 3]);
    g.output(O.MatMul(g, x, w), 'y');
    const graph = g.build();
    const wData = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const buffer = new Uint8Array(64 + 24);
    buffer.set(new Uint8Array(wData.buffer), 64);
    const external = new Map([['w', { location: 'weights.bin', offset: 64, length: 24 }]]);
    const bytes = serializeGraph(graph, { external });
    const { onnx } = (await import('onnx-proto')).default;
    const model = onnx.ModelProto.decode(bytes);
    expect((model.graph?.input ?? []).map((i) => i.name)).toEqual(['x']);
    const init = (model.graph?.initializer ?? []).find((t) => t.name === 'w');
    expect(init?.dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
    expect((init?.externalData ?? []).map((e) => [e.key, e.value])).toEqual([['location', 'weights.bin'], ['offset', '64'], ['length', '24']]);
    expect(init?.rawData?.length ?? 0).toBe(0);
    const ort = await import('onnxruntime-web');
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], externalData: [{ path: 'weights.bin', data: buffer }] });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1, 1]), [1, 3]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([9, 12]);
    await session.release();
    // The same weights inline (raw data in the model), for runtimes that cannot read external data from memory.
    const inlined = serializeGraph(graph, { inline: new Map([['w', { dtype: 'float32' as const, shape: [3, 2], data: wData }]]) });
    const again = await ort.InferenceSession.create(inlined, { executionProviders: ['wasm'] });
    expect(again.inputNames).toEqual(['x']);
    const out2 = await again.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1, 1]), [1, 3]) });
    expect(Array.from(out2.y!.data as Float32Array)).toEqual([9, 12]);
    await again.release();
    expect(() => serializeGraph(graph, { inline: new Map([['w', { dtype: 'float32' as const, shape: [2, 3], data: wData }]]) })).toThrow(/inline tensor "w" is float32 \[2, 3\]/);
    expect(() => serializeGraph(graph, { external: new Map([['v', { location: 'weights.bin', offset: 0, length: 24 }]]) })).toThrow(/"v" is not an input/);
    expect(() => serializeGraph(graph, { external: new Map([['w', { location: 'weights.bin', offset: 0, length: 20 }]]) })).toThrow(/needs 24 bytes, got 20/);
  });

  it('runs on ORT with renamed outputs, scoped node names and shared constants', async () => {
    const graph = mlp();
    expect(graph.outputs.map((o) => o.value.name)).toEqual(['loss', 'grad.w1', 'grad.w2']);
    expect(graph.nodes.some((n) => n.name.startsWith('/layers.0/MatMul_'))).toBe(true);
    expect(graph.nodes.some((n) => n.name.startsWith('/grad/'))).toBe(true);
    const names = graph.initializers.map((i) => i.value.name);
    expect(new Set(names).size).toBe(names.length);
    const feeds = {
      x: Array.from({ length: 24 }, (_, i) => Math.sin(i)),
      w1: Array.from({ length: 48 }, (_, i) => Math.cos(i) / 3),
      w2: Array.from({ length: 16 }, (_, i) => Math.sin(2 * i) / 3),
    };
    const r = await runGraph(graph, feeds);
    expect(r['grad.w1']!.dims).toEqual([6, 8]);
    expect(r.loss!.data[0]).toBeGreaterThan(0);
  });
});

describe('GraphBuilder', () => {
  it('shares identical constants and prunes nodes that reach no output', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [2]);
    expect(g.constant(0.5)).toBe(g.constant(0.5));
    expect(g.constant(0.5)).not.toBe(g.constant(0.5, 'float64'));
    O.Exp(g, x); // dead
    g.output(O.Mul(g, x, 0.5), 'y');
    const graph = g.build();
    expect(graph.nodes.map((n) => n.op)).toEqual(['Mul']);
    expect(g.build({ prune: false }).nodes.map((n) => n.op)).toEqual(['Exp', 'Mul']);
  });

  it('copies an input through Identity when it is also an output, and rejects misuse', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [2]);
    expect(g.output(x, 'x_out').name).not.toBe('x');
    expect(g.build().nodes.map((n) => n.op)).toEqual(['Identity']);
    expect(() => g.output(x, 'x_out')).toThrow(/duplicate graph output/);
    expect(() => g.input('x', 'float32', [2])).toThrow(/duplicate value name "x"/);
    expect(() => g.input('/x', 'float32', [2])).toThrow(/reserved/);
    expect(() => g.input('z', 'float32', [2, -1])).toThrow(/non-negative integers/);
    const other = new GraphBuilder('other').input('x', 'float32', [2]);
    expect(() => O.Neg(g, other)).toThrow(/does not belong to graph "t"/);
    expect(() => new GraphBuilder('empty').build()).toThrow(/no outputs/);
  });

  it('fuses a residual Add and the norm of its sum into SkipSimplifiedLayerNormalization, gradients included, with the same values', async () => {
    const g = new GraphBuilder('skipnorm');
    const x = g.input('x', 'float32', [3, 4], 'trainable');
    const r = g.input('r', 'float32', [3, 4]);
    const w = g.input('w', 'float32', [4]);
    const sum = O.Add(g, x, r);
    const y = O.SimplifiedLayerNormalization(g, sum, w, 1e-5);
    const loss = O.ReduceSum(g, O.Mul(g, O.Add(g, y, sum), y), []); // the sum is used again, like the next residual
    const [dx] = grad(g, loss, [x]);
    g.output(loss, 'loss');
    g.output(dx!, 'dx');
    const fused = g.build();
    const plain = g.build({ fuse: false });
    const ops = (gr: Graph) => gr.nodes.map((n) => n.op);
    expect(ops(fused)).toContain('SkipSimplifiedLayerNormalization');
    expect(ops(fused).filter((o) => o === 'SimplifiedLayerNormalization')).toEqual([]);
    expect(fused.nodes.length).toBe(plain.nodes.length - 1);
    const feeds = { x: Array.from({ length: 12 }, (_, i) => Math.sin(i) * 2), r: Array.from({ length: 12 }, (_, i) => Math.cos(i * 3)), w: [1, 0.5, -2, 3] };
    const [a, b] = [await runGraph(fused, feeds), await runGraph(plain, feeds)];
    expect(a.loss!.data[0]).toBeCloseTo(b.loss!.data[0]!, 4);
    a.dx!.data.forEach((v, i) => expect(v).toBeCloseTo(b.dx!.data[i]!, 4));
  });

  it('prints one line per input, constant, node and output', () => {
    const text = printGraph(mlp());
    expect(text).toMatch(/^graph mlp \(opset ai\.onnx:21\)/);
    expect(text).toContain('input  %w1: float32[6, 8]  (trainable)');
    expect(text).toMatch(/%\/layers\.0\/MatMul_0_output_0: float32\[4, 8\] = MatMul\(%x, %w1\)/);
    expect(text).toContain('output %grad.w1: float32[6, 8]');
    const graph = mlp();
    expect(text.split('\n').length).toBe(1 + graph.inputs.length + graph.initializers.length + graph.nodes.length + graph.outputs.length);
  });
});
