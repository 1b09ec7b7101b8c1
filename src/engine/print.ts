// Readable text form of a Graph for debugging and snapshot tests: one line per input, constant, node and output.
//   %/MatMul_3_output_0: float32[2, 4] = MatMul(%x, %w)  {transB=1}
import type { Attr, ConstTensor, Value } from './ir.ts';
import { numel } from './ir.ts';
import type { Graph } from './graph.ts';

const typeOf = (v: Value): string => `${v.dtype}[${v.shape.join(', ')}]`;

function attrText(a: Attr): string {
  switch (a.kind) {
    case 'int':
    case 'float':
      return String(a.value);
    case 'string':
      return JSON.stringify(a.value);
    case 'ints':
    case 'floats':
      return `[${a.value.join(', ')}]`;
    case 'tensor':
      return `tensor ${a.value.dtype}[${a.value.shape.join(', ')}]`;
  }
}

function constText(t: ConstTensor): string {
  const n = numel(t.shape);
  const shown = Array.from(t.data.slice(0, 8) as ArrayLike<number | bigint>, (x) => String(x));
  return `[${shown.join(', ')}${n > 8 ? `, … ${n - 8} more` : ''}]`;
}

export function printGraph(graph: Graph): string {
  const lines: string[] = [`graph ${graph.name} (opset ${graph.opset.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(', ')})`];
  for (const i of graph.inputs) lines.push(`  input  %${i.value.name}: ${typeOf(i.value)}  (${i.role})`);
  for (const c of graph.initializers) lines.push(`  const  %${c.value.name}: ${typeOf(c.value)} = ${constText(c.tensor)}`);
  for (const n of graph.nodes) {
    const outs = n.outputs.map((v) => `%${v.name}: ${typeOf(v)}`).join(', ');
    const ins = n.inputs.map((v) => (v ? `%${v.name}` : '_')).join(', ');
    const keys = Object.keys(n.attrs).sort();
    const attrs = keys.length ? `  {${keys.map((k) => `${k}=${attrText(n.attrs[k]!)}`).join(', ')}}` : '';
    lines.push(`  ${outs} = ${n.domain ? `${n.domain}.` : ''}${n.op}(${ins})${attrs}`);
  }
  for (const o of graph.outputs) lines.push(`  output %${o.value.name}: ${typeOf(o.value)}`);
  return lines.join('\n');
}
