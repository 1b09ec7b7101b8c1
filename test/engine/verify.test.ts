// Verifier rejections: each bad graph is built by hand (or by editing a good one) and must be rejected with a message
// that names the offending node or value.
import { describe, expect, it } from 'vitest';
import * as O from '../../src/engine/ops.ts';
import type { Node, Value } from '../../src/engine/ir.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import type { Graph } from '../../src/engine/graph.ts';
import { GraphVerifyError, verifyGraph } from '../../src/engine/verify.ts';

function good(): { graph: Graph; x: Value } {
  const g = new GraphBuilder('good');
  const x = g.input('x', 'float32', [2, 3]);
  const w = g.input('w', 'float32', [3, 4], 'frozen');
  g.output(O.Softmax(g, O.MatMul(g, O.Relu(g, x), w)), 'y');
  return { graph: g.build(), x };
}

/** The same graph with node `i` replaced. */
function withNode(graph: Graph, i: number, edit: (n: Node) => Node): Graph {
  return { ...graph, nodes: graph.nodes.map((n, k) => (k === i ? edit(n) : n)) };
}

function problems(graph: Graph): string[] {
  try {
    verifyGraph(graph);
  } catch (e) {
    if (e instanceof GraphVerifyError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('verifyGraph', () => {
  it('accepts a well-formed graph', () => {
    expect(problems(good().graph)).toEqual([]);
  });

  it('rejects an unknown input value', () => {
    const { graph } = good();
    const ghost: Value = { id: 999, name: 'ghost', dtype: 'float32', shape: [2, 3] };
    const bad = withNode(graph, 0, (n) => ({ ...n, inputs: [ghost] }));
    expect(problems(bad)).toEqual([expect.stringMatching(/node \/Relu_0 \(Relu\): input 0 "ghost" is unknown/)]);
  });

  it('rejects a cycle', () => {
    const { graph } = good();
    // Relu now consumes the Softmax output, which depends on Relu.
    const softmaxOut = graph.nodes[2]!.outputs[0]!;
    const bad = withNode(graph, 0, (n) => ({ ...n, inputs: [{ ...softmaxOut, shape: [2, 4] }] }));
    expect(problems(bad).join('\n')).toMatch(/node \/Relu_0 \(Relu\): input 0 "y" is produced later by \/Softmax_2: a cycle/);
  });

  it('rejects a declared shape or dtype the op does not produce', () => {
    const { graph } = good();
    const wrongShape = withNode(graph, 1, (n) => ({ ...n, outputs: [{ ...n.outputs[0]!, shape: [2, 5] }] }));
    expect(problems(wrongShape).join('\n')).toMatch(/node \/MatMul_1 \(MatMul\): output 0 .* declared float32\[2, 5\] but the op yields float32\[2, 4\]/);
    const wrongDtype = withNode(graph, 0, (n) => ({ ...n, outputs: [{ ...n.outputs[0]!, dtype: 'float64' }] }));
    expect(problems(wrongDtype).join('\n')).toMatch(/node \/Relu_0 \(Relu\): output 0 .* declared float64\[2, 3\] but the op yields float32\[2, 3\]/);
  });

  it('rejects inconsistent inputs (mismatched dtypes reaching an op)', () => {
    const g = new GraphBuilder('mixed');
    const a = g.input('a', 'float32', [2]);
    const b = g.input('b', 'float64', [2]);
    const [y] = g.node({ op: 'Add', inputs: [a, b], outputs: [{ dtype: 'float32', shape: [2] }] });
    g.output(y!, 'y');
    expect(problems(g.build()).join('\n')).toMatch(/node \/Add_0 \(Add\): Add: dtypes differ/);
  });

  it('rejects duplicate names', () => {
    const { graph, x } = good();
    const bad = withNode(graph, 0, (n) => ({ ...n, outputs: [{ ...n.outputs[0]!, name: x.name }] }));
    expect(problems(bad).join('\n')).toMatch(/duplicate name "x"/);
  });

  it('rejects int64 arithmetic and int64 outputs, but allows int64 indices', () => {
    const g = new GraphBuilder('int64');
    const ids = g.input('ids', 'int64', [3]);
    const table = g.input('table', 'float32', [10, 4], 'frozen');
    const [sum] = g.node({ op: 'Add', inputs: [ids, ids], outputs: [{ dtype: 'int64', shape: [3] }] });
    g.output(sum!, 'sum');
    g.output(O.Gather(g, table, ids, 0), 'rows');
    const found = problems(g.build());
    expect(found.join('\n')).toMatch(/node \/Add_0 \(Add\): int64 input 0 "ids": int64 is allowed only as shape\/axes\/indices/);
    expect(found.join('\n')).toMatch(/node \/Add_0 \(Add\): output .* is int64/);
    expect(found.join('\n')).not.toMatch(/Gather/);
  });

  it('rejects an op the engine does not know, and a shape argument that is not constant', () => {
    const g = new GraphBuilder('unknown');
    const x = g.input('x', 'float32', [4]);
    const shape = g.input('shape', 'int64', [2]);
    const [y] = g.node({ op: 'LogSoftmax', inputs: [x], outputs: [{ dtype: 'float32', shape: [4] }] });
    const [z] = g.node({ op: 'Reshape', inputs: [x, shape], outputs: [{ dtype: 'float32', shape: [2, 2] }] });
    g.output(y!, 'y');
    g.output(z!, 'z');
    const found = problems(g.build()).join('\n');
    expect(found).toMatch(/node \/LogSoftmax_0 \(LogSoftmax\): unknown op LogSoftmax/);
    expect(found).toMatch(/node \/Reshape_1 \(Reshape\): input 1 must be a constant/);
  });

  it('rejects a graph output that nothing defines and a missing opset domain', () => {
    const { graph } = good();
    const ghost: Value = { id: 777, name: 'ghost_out', dtype: 'float32', shape: [1] };
    expect(problems({ ...graph, outputs: [...graph.outputs, { value: ghost }] })).toEqual([expect.stringMatching(/graph output "ghost_out" is not defined/)]);
    const g = new GraphBuilder('ms');
    g.output(O.FastGelu(g, g.input('x', 'float32', [2])), 'y');
    const ms = g.build();
    expect(problems(ms)).toEqual([]);
    expect(problems({ ...ms, opset: ms.opset.filter((o) => o.domain === '') })).toEqual([expect.stringMatching(/domain "com.microsoft" is used but not imported/)]);
  });
});
