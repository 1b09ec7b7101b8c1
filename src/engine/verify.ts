// Verifier: rejects a built Graph before it is serialised. Checks names, that every input is defined before use (so no
// cycles), per-node dtypes/shapes/attributes by re-inference, int64 kept to index positions, and output wiring.
// Every problem names the node; all problems are reported together.
import type { ConstTensor, Node, Value } from './ir.ts';
import { numel, shapeToString } from './ir.ts';
import type { Graph } from './graph.ts';
import { MAX_CONSTANT_ELEMENTS } from './graph.ts';
import { reinferNode } from './reinfer.ts';

export class GraphVerifyError extends Error {
  readonly problems: readonly string[];
  constructor(graphName: string, problems: readonly string[]) {
    super(`graph "${graphName}" failed verification (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`);
    this.name = 'GraphVerifyError';
    this.problems = problems;
  }
}

/** Inputs at which int64 is allowed: shape/axes/index arguments. Everything else with int64 is int64 arithmetic,
 * which the WebGPU EP cannot run (docs/architecture.md). */
const INT64_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Reshape: [1],
  Slice: [1, 2, 3, 4],
  Expand: [1],
  Pad: [1],
  Tile: [1],
  Unsqueeze: [1],
  Squeeze: [1],
  Split: [1],
  ReduceSum: [1],
  ReduceMean: [1],
  ReduceMax: [1],
  ReduceLogSumExp: [1],
  ReduceSumSquare: [1],
  Gather: [1],
  RotaryEmbedding: [1],
  GatherElements: [1],
  ScatterElements: [1],
  ScatterND: [1],
  CumSum: [1],
};

export function verifyGraph(graph: Graph): void {
  const problems: string[] = [];
  const defined = new Map<number, Value>();
  const constants = new Map<number, ConstTensor>();
  const names = new Map<string, string>();
  const claim = (name: string, what: string): void => {
    const prev = names.get(name);
    if (prev) problems.push(`duplicate name "${name}": ${what} and ${prev}`);
    else names.set(name, what);
  };
  const define = (v: Value, what: string): void => {
    if (defined.has(v.id)) problems.push(`value id ${v.id} ("${v.name}") defined twice (${what})`);
    defined.set(v.id, v);
    claim(v.name, what);
  };

  for (const i of graph.inputs) define(i.value, `graph input "${i.value.name}"`);
  for (const c of graph.initializers) {
    define(c.value, `initializer "${c.value.name}"`);
    constants.set(c.value.id, c.tensor);
    if (numel(c.tensor.shape) > MAX_CONSTANT_ELEMENTS) problems.push(`initializer "${c.value.name}" is too large to inline; make it a graph input`);
    if (c.tensor.dtype !== c.value.dtype || shapeToString(c.tensor.shape) !== shapeToString(c.value.shape)) {
      problems.push(`initializer "${c.value.name}" data is ${c.tensor.dtype}${shapeToString(c.tensor.shape)} but declared ${c.value.dtype}${shapeToString(c.value.shape)}`);
    }
  }

  const producers = new Map<number, Node>();
  for (const n of graph.nodes) for (const v of n.outputs) producers.set(v.id, n);
  const nodeNames = new Set<string>();

  for (const n of graph.nodes) {
    const where = `node ${n.name} (${n.op})`;
    if (nodeNames.has(n.name)) problems.push(`duplicate node name "${n.name}"`);
    nodeNames.add(n.name);
    let inputsOk = true;
    n.inputs.forEach((v, i) => {
      if (!v) return;
      const d = defined.get(v.id);
      if (d) {
        if (d.name !== v.name || d.dtype !== v.dtype || shapeToString(d.shape) !== shapeToString(v.shape)) {
          problems.push(`${where}: input ${i} "${v.name}" ${v.dtype}${shapeToString(v.shape)} disagrees with its definition "${d.name}" ${d.dtype}${shapeToString(d.shape)}`);
          inputsOk = false;
        }
        return;
      }
      inputsOk = false;
      const p = producers.get(v.id);
      problems.push(
        p
          ? `${where}: input ${i} "${v.name}" is produced later by ${p.name}: a cycle, or nodes out of topological order`
          : `${where}: input ${i} "${v.name}" is unknown (not a graph input, initializer or node output)`,
      );
    });
    n.inputs.forEach((v, i) => {
      if (v?.dtype === 'int64' && !(INT64_INPUTS[n.op] ?? []).includes(i)) {
        problems.push(`${where}: int64 input ${i} "${v.name}": int64 is allowed only as shape/axes/indices (compute in int32; WebGPU has no int64 arithmetic)`);
      }
    });
    for (const v of n.outputs) {
      // Cast may make int64 (the WebGPU EP's int64 allowlist has it): every consumer is checked above to take it only
      // as an index (RotaryEmbedding's position_ids).
      if (v.dtype === 'int64' && n.op !== 'Cast') problems.push(`${where}: output "${v.name}" is int64; produce int32 instead (WebGPU has no int64 arithmetic)`);
    }
    if (inputsOk) {
      try {
        const inferred = reinferNode(n, (v) => constants.get(v.id));
        if (inferred.length !== n.outputs.length) {
          problems.push(`${where}: has ${n.outputs.length} outputs; the op yields ${inferred.length}`);
        }
        n.outputs.forEach((v, i) => {
          const e = inferred[i];
          if (e && (e.dtype !== v.dtype || shapeToString(e.shape) !== shapeToString(v.shape))) {
            problems.push(`${where}: output ${i} "${v.name}" is declared ${v.dtype}${shapeToString(v.shape)} but the op yields ${e.dtype}${shapeToString(e.shape)}`);
          }
        });
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
      }
    }
    for (const v of n.outputs) define(v, `output of ${n.name}`);
  }

  const outNames = new Set<string>();
  for (const o of graph.outputs) {
    if (!defined.has(o.value.id)) problems.push(`graph output "${o.value.name}" is not defined by any input, initializer or node`);
    if (outNames.has(o.value.name)) problems.push(`graph output "${o.value.name}" listed twice`);
    outNames.add(o.value.name);
  }
  for (const d of new Set(graph.nodes.map((n) => n.domain))) {
    if (!graph.opset.some((o) => o.domain === d)) problems.push(`domain "${d}" is used but not imported in the opset list`);
  }
  if (problems.length > 0) throw new GraphVerifyError(graph.name, problems);
}
