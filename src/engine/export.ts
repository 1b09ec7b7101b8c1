// ONNX export of a run's graphs as files anyone can open (Netron) or run (stock onnxruntime): one .onnx per graph, the
// frozen weights once in `weights.bin` as ONNX external data (TensorProto.external_data location/offset/length,
// data_location EXTERNAL), so no model file nears protobuf's 2 GB; a `manifest.json` naming every input and output
// with shape, dtype, role and meaning and how a step feeds outputs back as inputs; and optionally `replay.bin`, the
// exact feeds of one optimizer step. Pure: returns file contents as byte parts, writes nothing.
import type { DType, Shape } from './ir.ts';
import type { Graph } from './graph.ts';
import { serializeGraph, type ExternalInputs } from './onnx.ts';
import { ADAMW_INPUTS } from './optim.ts';
import { STEP_IO, type StepGraphs } from './step.ts';
import { summarizeGraph } from './summary.ts';

/** Version tag of manifest.json. */
const ONNX_EXPORT_FORMAT = 'tabtune-onnx-export/1';
const WEIGHTS_FILE = 'weights.bin';
const REPLAY_FILE = 'replay.bin';
const MANIFEST_FILE = 'manifest.json';
/** External tensors start on 4 KiB boundaries, so a runtime may map them from the file instead of copying. */
const ALIGN = 4096;

/** A tensor value in host memory (the runtime's HostTensor has the same shape). */
interface ExportTensor {
  readonly dtype: DType;
  readonly dims: Shape;
  readonly data: Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array;
}

export interface ExportGraph {
  /** File stem: `train-step` → train-step.onnx. */
  readonly id: string;
  readonly graph: Graph;
  /** One sentence on what running the graph does. */
  readonly purpose: string;
}

/** The exact feeds of one optimizer step, so it can be replayed from the files alone. */
export interface ReplayStep {
  /** 1-based step number the update uses (bias correction). */
  readonly step: number;
  readonly lr: number;
  /** Values of the trainable tensors before the step, by name. */
  readonly params: Readonly<Record<string, Float32Array>>;
  /** AdamW moments before the step, flat per optimizer group (`optim.m.<group>`, `optim.v.<group>`). */
  readonly moments: Readonly<Record<string, Float32Array>>;
  /** Data feeds of each micro-batch of the window (the last goes to train-step, the others to accumulate). */
  readonly microBatches: readonly Readonly<Record<string, ExportTensor>>[];
  /** The step scalars the host feeds (optim.lr, optim.step_size, optim.bc2_sqrt). */
  readonly scalars: Readonly<Record<string, number>>;
}

export interface OnnxExportInput {
  readonly graphs: readonly ExportGraph[];
  /** The step graphs the train-step/accumulate/eval graphs came from (optimizer groups, AdamW settings). */
  readonly step: StepGraphs;
  /** Bytes of each frozen input, by name; every frozen input of every graph must be here. */
  readonly weights: (name: string) => Float32Array | undefined;
  readonly replay?: ReplayStep;
  /** Free-form provenance written into the manifest (model id, revision, config). */
  readonly about?: Readonly<Record<string, unknown>>;
  readonly producerVersion?: string;
}

export interface ExportFile {
  readonly path: string;
  /** The file is these parts concatenated (views, not copies, of the weights). */
  readonly parts: readonly Uint8Array[];
  readonly bytes: number;
}

interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

interface IoEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly meaning: string;
}

/** Packs parts into one file, each starting on an `align`-byte boundary; returns their ranges. */
class Packer {
  readonly parts: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly align: number) {}

  add(bytes: Uint8Array): ByteRange {
    const pad = (this.align - (this.size % this.align)) % this.align;
    if (pad > 0) {
      this.parts.push(new Uint8Array(pad));
      this.size += pad;
    }
    const offset = this.size;
    this.parts.push(bytes);
    this.size += bytes.byteLength;
    return { offset, length: bytes.byteLength };
  }

  get bytes(): number {
    return this.size;
  }
}

const view = (a: ExportTensor['data']): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** What an input or output is for, in words, from the names the engine and the models use. */
function meaningOf(name: string, role: string | null): string {
  const next = /^(.*)\.next$/.exec(name);
  if (next) return `new value of input "${next[1]}": feed it as "${next[1]}" at the next run`;
  const fixed: Record<string, string> = {
    input_ids: 'token ids [batch, seq], right-padded',
    position_ids: 'position of each token (restarts at 0 per packed document)',
    attention_mask: '1 = real token, 0 = padding',
    labels: 'target ids, unshifted (position t is predicted from t − 1); −100 = no loss',
    logits_index: 'per row, the position whose logits are returned (the last prompt token)',
    [ADAMW_INPUTS.lr]: 'learning rate of this step (float32 scalar; decoupled weight decay uses it)',
    [ADAMW_INPUTS.stepSize]: 'lr / (1 − beta1^t), t the 1-based step, computed on the host in float64',
    [ADAMW_INPUTS.bc2Sqrt]: 'sqrt(1 − beta2^t), t the 1-based step, computed on the host in float64',
    [STEP_IO.nllAcc]: 'Σ token NLL of the window so far: 0 at the start of a step, else accumulate\'s output',
    [STEP_IO.countAcc]: 'target tokens of the window so far: 0 at the start of a step, else accumulate\'s output',
    [STEP_IO.metrics]: '[Σ NLL of the window, target tokens of the window, global gradient norm before clipping]; loss = [0] / [1]',
    [STEP_IO.evalMetrics]: '[Σ NLL, target tokens] of the batch',
    [STEP_IO.tokenNll]: '[batch, seq] NLL of predicting token t + 1 at position t (0 where no target)',
    logits: '[batch, vocab] next-token logits',
  };
  if (fixed[name]) return fixed[name];
  let m: RegExpExecArray | null;
  if ((m = /^optim\.([mv])\.(.+)$/.exec(name))) {
    return `AdamW ${m[1] === 'm' ? 'first' : 'second'} moment of optimizer group "${m[2]}", flat (tensors in manifest.optimizer.groups order); zeros before step 1`;
  }
  if ((m = /^accum\.grad\.(.+)$/.exec(name))) return `Σ NLL gradients of group "${m[1]}" so far in the window: zeros at the start of a step, else accumulate's output`;
  if ((m = /^lora_dropout\.(.+)$/.exec(name))) return `LoRA dropout keep-mask of ${m[1]} (0, or 1 / (1 − p)); all ones to disable`;
  if (/dropout/.test(name)) return 'dropout keep-mask (0, or 1 / (1 − p)); all ones to disable';
  if ((m = /^past_key_values\.(\d+)\.(key|value)$/.exec(name))) return `KV cache of layer ${m[1]} (${m[2]}): the previous run's present.${m[1]}.${m[2]}`;
  if ((m = /^present\.(\d+)\.(key|value)$/.exec(name))) return `KV cache of layer ${m[1]} (${m[2]}) after this run: feed as past_key_values.${m[1]}.${m[2]}`;
  if (role === 'frozen') return 'frozen base weight (an initializer; its bytes are in weights.bin)';
  if (role === 'trainable') return /lora_[AB]|lora_embedding/.test(name) ? 'trainable LoRA matrix (PEFT name)' : 'trainable base tensor (trained in full)';
  return role === null ? 'graph output' : `${role} input`;
}

function graphManifest(e: ExportGraph, weightRanges: ReadonlyMap<string, ByteRange>) {
  const s = summarizeGraph(e.graph, { top: 0 });
  const inputs: (IoEntry & { role: string; external?: ByteRange & { location: string } })[] = e.graph.inputs.map((i) => {
    const entry = { name: i.value.name, dtype: i.value.dtype, shape: [...i.value.shape], role: i.role, meaning: meaningOf(i.value.name, i.role) };
    const at = i.role === 'frozen' ? weightRanges.get(i.value.name) : undefined;
    return at ? { ...entry, external: { location: WEIGHTS_FILE, ...at } } : entry;
  });
  return {
    file: `${e.id}.onnx`,
    purpose: e.purpose,
    nodes: s.nodes,
    nodesByPhase: s.byPhase,
    opset: e.graph.opset.map((o) => ({ domain: o.domain || 'ai.onnx', version: o.version })),
    /** Frozen inputs are initializers in the file (not fed); everything else is fed. */
    feeds: inputs.filter((i) => !i.external).map((i) => i.name),
    inputs,
    outputs: e.graph.outputs.map((o) => ({ name: o.value.name, dtype: o.value.dtype, shape: [...o.value.shape], meaning: meaningOf(o.value.name, null) })),
  };
}

/** Builds the files of an ONNX export. Deterministic: the same input gives the same bytes. */
export function buildOnnxExport(input: OnnxExportInput): { files: ExportFile[]; manifest: Record<string, unknown> } {
  const ids = new Set<string>();
  for (const e of input.graphs) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(e.id)) throw new Error(`export graph id "${e.id}" must be lower-case letters, digits, ".", "_" or "-" (it names a file)`);
    if (ids.has(e.id)) throw new Error(`export graph id "${e.id}" is used twice`);
    ids.add(e.id);
  }
  // Every frozen input of every graph, once, in first-seen order.
  const weights = new Packer(ALIGN);
  const weightRanges = new Map<string, ByteRange>();
  for (const e of input.graphs) {
    for (const i of e.graph.inputs) {
      if (i.role !== 'frozen' || weightRanges.has(i.value.name)) continue;
      const data = input.weights(i.value.name);
      const want = i.value.shape.reduce((a, b) => a * b, 1);
      if (!data) throw new Error(`graph ${e.id} reads frozen weight "${i.value.name}", which was not provided`);
      if (i.value.dtype !== 'float32' || data.length !== want) {
        throw new Error(`frozen weight "${i.value.name}": the graph wants ${i.value.dtype} [${i.value.shape.join(', ')}] (${want} values), got ${data.length} float32 values`);
      }
      weightRanges.set(i.value.name, weights.add(view(data)));
    }
  }
  const files: ExportFile[] = [];
  for (const e of input.graphs) {
    const external = new Map<string, { location: string; offset: number; length: number }>();
    for (const i of e.graph.inputs) {
      const at = i.role === 'frozen' ? weightRanges.get(i.value.name) : undefined;
      if (at) external.set(i.value.name, { location: WEIGHTS_FILE, ...at });
    }
    const bytes = serializeGraph(e.graph, { external: external as ExternalInputs, valueInfo: true, ...(input.producerVersion ? { producerVersion: input.producerVersion } : {}) });
    files.push({ path: `${e.id}.onnx`, parts: [bytes], bytes: bytes.byteLength });
  }
  files.push({ path: WEIGHTS_FILE, parts: weights.parts, bytes: weights.bytes });

  const step = input.step;
  const manifest: Record<string, unknown> = {
    format: ONNX_EXPORT_FORMAT,
    ...(input.about ? { about: input.about } : {}),
    weights: { file: WEIGHTS_FILE, bytes: weights.bytes, tensors: weightRanges.size, alignment: ALIGN },
    graphs: Object.fromEntries(input.graphs.map((e) => [e.id, graphManifest(e, weightRanges)])),
    optimizer: {
      kind: 'AdamW',
      ...step.adamw,
      groups: step.groups.map((g) => ({
        id: g.id, size: g.size, weightDecay: g.id === 'decay',
        params: g.params.map((p) => ({ name: p.name, shape: [...p.shape], offset: p.offset, size: p.size })),
      })),
      hostScalars: {
        [ADAMW_INPUTS.lr]: 'lr',
        [ADAMW_INPUTS.stepSize]: 'lr / (1 - beta1 ** t)',
        [ADAMW_INPUTS.bc2Sqrt]: 'Math.sqrt(1 - beta2 ** t)',
      },
    },
    stepProtocol: [
      'One optimizer step over k micro-batches (k = gradient accumulation): set every accum.* input to zeros.',
      'Run accumulate for micro-batches 1 … k − 1, each time feeding its accum.*.next outputs as the next run\'s accum.* inputs.',
      'Run train-step on micro-batch k with the accumulators, the trainable tensors, optim.m.* / optim.v.* and the host scalars for 1-based step t.',
      'Its X.next outputs replace inputs X (trainable tensors and AdamW moments) for step t + 1; metrics = [Σ NLL, target tokens, grad norm], loss = metrics[0] / metrics[1].',
      'Frozen weights are initializers with external data in weights.bin: never fed.',
    ],
    feedBack: step.train.outputs
      .map((o) => /^(.*)\.next$/.exec(o.value.name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map((name) => ({ output: STEP_IO.next(name), input: name })),
  };

  if (input.replay) {
    const r = input.replay;
    const pack = new Packer(16);
    const at = (t: ExportTensor) => ({ dtype: t.dtype, shape: [...t.dims], ...pack.add(view(t.data)) });
    const f32 = (data: Float32Array, shape: readonly number[]): ExportTensor => ({ dtype: 'float32', dims: shape, data });
    const state: Record<string, unknown> = {};
    for (const p of step.trainable) {
      const v = r.params[p.name];
      if (!v || v.length !== p.shape.reduce((a, b) => a * b, 1)) throw new Error(`replay: no ${p.shape.join('×')} value for trainable "${p.name}"`);
      state[p.name] = at(f32(v, p.shape));
    }
    for (const g of step.groups) {
      for (const name of [STEP_IO.m(g.id), STEP_IO.v(g.id)]) {
        const v = r.moments[name];
        if (!v || v.length !== g.size) throw new Error(`replay: no [${g.size}] value for "${name}"`);
        state[name] = at(f32(v, [g.size]));
      }
    }
    if (r.microBatches.length === 0) throw new Error('replay: no micro-batches');
    const micro = r.microBatches.map((b, k) => ({
      graph: k === r.microBatches.length - 1 ? 'train-step' : 'accumulate',
      feeds: Object.fromEntries(step.data.map((d) => {
        const t = b[d.name];
        if (!t) throw new Error(`replay: micro-batch ${k} has no "${d.name}"`);
        return [d.name, at(t)];
      })),
    }));
    const scalars = Object.fromEntries(Object.values(ADAMW_INPUTS).map((n) => {
      const x = r.scalars[n];
      if (x === undefined) throw new Error(`replay: no value for step scalar "${n}"`);
      return [n, at(f32(Float32Array.of(x), []))];
    }));
    manifest['replay'] = {
      file: REPLAY_FILE,
      step: r.step,
      lr: r.lr,
      note: 'Every range is { dtype, shape, offset, length } in replay.bin, little-endian. accum.* inputs start at zeros.',
      state,
      scalars,
      microBatches: micro,
    };
    files.push({ path: REPLAY_FILE, parts: pack.parts, bytes: pack.bytes });
  }
  const text = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
  files.push({ path: MANIFEST_FILE, parts: [text], bytes: text.byteLength });
  return { files, manifest };
}
