#!/usr/bin/env node
// Replays one TabTune optimizer step from the files of `tabtune export --onnx DIR` with onnxruntime-node alone: reads
// manifest.json, opens each .onnx file from disk (its frozen weights are ONNX external data in weights.bin, which ORT
// reads itself), feeds the state and batches stored in replay.bin, and prints the step's loss as JSON. With
// --save FILE it also writes the updated trainable tensors as F32 safetensors (PEFT key names).
//
//   node examples/onnx-replay/replay.mjs DIR [--threads N] [--save updated.safetensors]
//
// Bit-for-bit agreement with TabTune's CPU backend needs the same thread count (TabTune uses every core by default,
// as this script does). Standalone on purpose: no TabTune import, only node: modules and onnxruntime-node.
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { threads: { type: 'string' }, save: { type: 'string' } } });
const dir = positionals[0];
if (!dir) {
  console.error('usage: node examples/onnx-replay/replay.mjs DIR [--threads N] [--save FILE.safetensors]');
  process.exit(2);
}
const threads = values.threads ? Number(values.threads) : availableParallelism();
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const replay = manifest.replay;
if (!replay) throw new Error(`${dir}/manifest.json has no "replay" section: export with tabtune export --onnx`);
const bin = readFileSync(join(dir, replay.file));

const ARRAYS = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, float64: Float64Array, uint8: Uint8Array, bool: Uint8Array };

/** A { dtype, shape, offset, length } range of replay.bin as an ORT tensor (copied: offsets need not be aligned). */
function read(range) {
  const Array = ARRAYS[range.dtype];
  const bytes = bin.subarray(range.offset, range.offset + range.length);
  const data = new Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return new ort.Tensor(range.dtype, data, range.shape);
}

const zeros = (input) => new ort.Tensor(input.dtype, new ARRAYS[input.dtype](input.shape.reduce((a, b) => a * b, 1)), input.shape);

const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads };
const sessions = new Map();
async function session(id) {
  if (!sessions.has(id)) sessions.set(id, await ort.InferenceSession.create(join(dir, manifest.graphs[id].file), options));
  return sessions.get(id);
}

// Trainable tensors and AdamW moments before the step; accumulators start at zero.
const state = Object.fromEntries(Object.entries(replay.state).map(([name, range]) => [name, read(range)]));
const scalars = Object.fromEntries(Object.entries(replay.scalars).map(([name, range]) => [name, read(range)]));
const trainStep = manifest.graphs['train-step'];
let accumulators = Object.fromEntries(trainStep.inputs.filter((i) => i.name.startsWith('accum.')).map((i) => [i.name, zeros(i)]));

let metrics = null;
for (const [k, micro] of replay.microBatches.entries()) {
  const graph = manifest.graphs[micro.graph];
  const feeds = {};
  for (const name of graph.feeds) {
    const value = micro.feeds[name] ? read(micro.feeds[name]) : (state[name] ?? accumulators[name] ?? scalars[name]);
    if (!value) throw new Error(`micro-batch ${k}: no value for input "${name}" of ${graph.file}`);
    feeds[name] = value;
  }
  const out = await (await session(micro.graph)).run(feeds);
  if (micro.graph === 'accumulate') {
    accumulators = Object.fromEntries(Object.keys(accumulators).map((name) => [name, out[`${name}.next`]]));
  } else {
    for (const { output, input } of manifest.feedBack) state[input] = out[output];
    metrics = out.metrics.data;
  }
}

const result = { step: replay.step, lr: replay.lr, nllSum: metrics[0], targetTokens: metrics[1], loss: metrics[0] / metrics[1], gradNorm: metrics[2], threads };
console.log(JSON.stringify(result));

if (values.save) {
  // F32 safetensors: 8-byte little-endian header length, JSON header padded with spaces to 8 bytes, then the data.
  const names = trainStep.inputs.filter((i) => i.role === 'trainable').map((i) => i.name).sort();
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const name of names) {
    const t = state[name];
    header[name] = { dtype: 'F32', shape: t.dims, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  const parts = [head, new TextEncoder().encode(json), ...names.map((n) => new Uint8Array(state[n].data.buffer, state[n].data.byteOffset, state[n].data.byteLength))];
  writeFileSync(values.save, Buffer.concat(parts));
}
