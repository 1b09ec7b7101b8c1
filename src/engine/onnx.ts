// ONNX serialisation of a built Graph into ModelProto bytes with the `onnx-proto` static messages. Output is
// deterministic: nodes keep graph order, attributes are sorted by name, no timestamps or random ids are written.
// Large weights are never inlined: every graph input stays an input and only the graph's small constants become
// initializers, unless the caller moves inputs into the session as external data (`external`), whose bytes ORT reads
// from a buffer it is handed when the session is created.
import pkg from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import type { Attr, ConstTensor, DType, Value } from './ir.ts';
import type { Graph } from './graph.ts';
import { ONNX_DTYPE } from './ops/common.ts';

const { onnx } = pkg;

/** IR version 10 is the one that goes with opset 21 (onnx 1.16); ORT 1.30 reads it. */
const IR_VERSION = 10;

export interface SerializeOptions {
  /** Also write value_info (dtype + shape) for every intermediate value, for viewers such as Netron. Default false:
   * ORT re-infers shapes and ignores a disagreeing value_info, so it is documentation, not a check (verify.ts is). */
  readonly valueInfo?: boolean;
  readonly producerVersion?: string;
  /**
   * Graph inputs that become initializers whose data is external, by input name: the byte range of the buffer named
   * `location`. The session reads them once when it is created (onnxruntime-web's `externalData` option), so values
   * that never change are not fed, and copied into the runtime, on every run.
   */
  readonly external?: ExternalInputs;
  /**
   * Graph inputs that become initializers with their data inline (raw_data), by input name: for runtimes that cannot
   * read external data from memory (onnxruntime-node). The model must stay under protobuf's 2 GB.
   */
  readonly inline?: ReadonlyMap<string, ConstTensor>;
}

export type ExternalInputs = ReadonlyMap<string, { readonly location: string; readonly offset: number; readonly length: number }>;

export function serializeGraph(graph: Graph, options: SerializeOptions = {}): Uint8Array {
  const ext = options.external;
  const known = new Set(graph.inputs.map((i) => i.value.name));
  const inl = options.inline;
  for (const name of [...(ext?.keys() ?? []), ...(inl?.keys() ?? [])]) {
    if (!known.has(name)) throw new Error(`serializeGraph: external or inline tensor "${name}" is not an input of graph "${graph.name}"`);
  }
  const moved = (name: string) => ext?.has(name) === true || inl?.has(name) === true;
  const inputs = graph.inputs.filter((i) => !moved(i.value.name)).map((i) => valueInfo(i.value));
  const externals = ext ? graph.inputs.filter((i) => ext.has(i.value.name)).map((i) => externalTensor(i.value, ext)) : [];
  const inlined = inl ? graph.inputs.filter((i) => inl.has(i.value.name)).map((i) => inlineTensor(i.value, inl.get(i.value.name)!)) : [];
  const outputs = graph.outputs.map((o) => valueInfo(o.value));
  const exported = new Set<number>([...graph.inputs.map((i) => i.value.id), ...graph.outputs.map((o) => o.value.id)]);
  const intermediates: P.IValueInfoProto[] = [];
  if (options.valueInfo === true) {
    for (const n of graph.nodes) for (const v of n.outputs) if (!exported.has(v.id)) intermediates.push(valueInfo(v));
  }
  const model: P.IModelProto = {
    irVersion: IR_VERSION,
    producerName: 'tabtune',
    producerVersion: options.producerVersion ?? '0.1.0',
    opsetImport: graph.opset.map((o) => ({ domain: o.domain, version: o.version })),
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        domain: n.domain,
        // An omitted optional input is the empty name in ONNX.
        input: n.inputs.map((v) => (v ? v.name : '')),
        output: n.outputs.map((v) => v.name),
        attribute: Object.keys(n.attrs)
          .sort()
          .map((k) => attribute(k, n.attrs[k]!)),
      })),
      initializer: [...graph.initializers.map((i) => tensorProto(i.value.name, i.tensor)), ...externals, ...inlined],
      input: inputs,
      output: outputs,
      valueInfo: intermediates,
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

function valueInfo(v: Value): P.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

const AttrType = onnx.AttributeProto.AttributeType;

function attribute(name: string, a: Attr): P.IAttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AttrType.INT, i: a.value };
    case 'float':
      return { name, type: AttrType.FLOAT, f: a.value };
    case 'string':
      return { name, type: AttrType.STRING, s: new TextEncoder().encode(a.value) };
    case 'ints':
      return { name, type: AttrType.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: [...a.value] };
    case 'tensor':
      return { name, type: AttrType.TENSOR, t: tensorProto('', a.value) };
  }
}

function externalTensor(v: Value, ext: ExternalInputs): P.ITensorProto {
  const at = ext.get(v.name)!;
  const bytes = v.shape.reduce((a, b) => a * b, 1) * BYTES[v.dtype];
  if (at.length !== bytes) throw new Error(`serializeGraph: external tensor "${v.name}" ${v.dtype} [${v.shape.join(', ')}] needs ${bytes} bytes, got ${at.length}`);
  return {
    name: v.name,
    dims: [...v.shape],
    dataType: ONNX_DTYPE[v.dtype],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: at.location },
      { key: 'offset', value: String(at.offset) },
      { key: 'length', value: String(at.length) },
    ],
  };
}

function inlineTensor(v: Value, t: ConstTensor): P.ITensorProto {
  const same = t.dtype === v.dtype && t.shape.length === v.shape.length && t.shape.every((d, i) => d === v.shape[i]);
  if (!same) throw new Error(`serializeGraph: inline tensor "${v.name}" is ${t.dtype} [${t.shape.join(', ')}], the input is ${v.dtype} [${v.shape.join(', ')}]`);
  // A view, not a copy: the encoder copies it once into the model bytes.
  return { name: v.name, dims: [...v.shape], dataType: ONNX_DTYPE[v.dtype], rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
}

const BYTES: Readonly<Record<DType, number>> = { float32: 4, float64: 8, float16: 2, int32: 4, int64: 8, bool: 1, uint8: 1 };

function tensorProto(name: string, t: ConstTensor): P.ITensorProto {
  // raw_data is little-endian by spec; typed arrays are little-endian on every platform browsers and Node run on.
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
  return { name, dims: [...t.shape], dataType: ONNX_DTYPE[t.dtype as DType], rawData: raw };
}
