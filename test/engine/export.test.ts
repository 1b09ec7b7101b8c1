// buildOnnxExport on the tiny step graphs: the same input gives the same bytes; frozen weights leave the model bytes
// for weights.bin (aligned, inside the file, each once even when several graphs read it) and the decoded models name
// them as external initializers; the replay file holds what the manifest says; bad input is refused by name.
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildOnnxExport, type OnnxExportInput } from '../../src/engine/export';
import { buildStepGraphs } from '../../src/engine/step';
import { collate, TINY, tinyForward, tinyRows, tinyWeights } from './step-fixtures';

const { onnx } = pkg;
const graphs = buildStepGraphs(tinyForward(TINY));
const w = tinyWeights(TINY, 3);
const batch = collate(tinyRows(TINY, TINY.B, 9), TINY.T);

function input(over: Partial<OnnxExportInput> = {}): OnnxExportInput {
  return {
    graphs: [{ id: 'train-step', graph: graphs.train, purpose: 'step' }, { id: 'eval', graph: graphs.eval, purpose: 'eval' }],
    step: graphs,
    weights: (name) => w.frozen[name]?.data as Float32Array | undefined,
    replay: {
      step: 1, lr: 1e-3, params: w.params,
      moments: Object.fromEntries(graphs.groups.flatMap((g) => [[`optim.m.${g.id}`, new Float32Array(g.size)], [`optim.v.${g.id}`, new Float32Array(g.size)]])),
      microBatches: [batch], scalars: { 'optim.lr': 1e-3, 'optim.step_size': 1e-2, 'optim.bc2_sqrt': 0.03 },
    },
    ...over,
  };
}

const concat = (parts: readonly Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

describe('buildOnnxExport', () => {
  it('is deterministic and moves each frozen weight once into weights.bin', () => {
    const a = buildOnnxExport(input());
    const b = buildOnnxExport(input());
    expect(a.files.map((f) => f.path)).toEqual(['train-step.onnx', 'eval.onnx', 'weights.bin', 'replay.bin', 'manifest.json']);
    a.files.forEach((f, i) => expect(concat(f.parts).equals(concat(b.files[i]!.parts)), f.path).toBe(true));
    const weights = concat(a.files.find((f) => f.path === 'weights.bin')!.parts);
    const frozenBytes = Object.values(w.frozen).reduce((n, t) => n + t.data.byteLength, 0);
    expect(weights.byteLength).toBeLessThan(frozenBytes + 4096 * graphs.frozen.length); // once, not once per graph
    for (const f of a.files.filter((x) => x.path.endsWith('.onnx'))) {
      const model = onnx.ModelProto.decode(concat(f.parts));
      const externals = model.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
      expect(externals.map((t) => t.name).sort()).toEqual(graphs.frozen.map((s) => s.name).sort());
      expect(model.graph!.input!.some((i) => graphs.frozen.some((s) => s.name === i.name))).toBe(false);
      for (const t of externals) {
        const kv = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
        const offset = Number(kv['offset']);
        const length = Number(kv['length']);
        expect(offset % 4096).toBe(0);
        // The bytes at the range are the weight's own.
        const data = w.frozen[t.name!]!.data as Float32Array;
        expect(Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(weights.subarray(offset, offset + length))).toBe(true);
      }
    }
    const replay = concat(a.files.find((f) => f.path === 'replay.bin')!.parts);
    const m = a.manifest['replay'] as { state: Record<string, { offset: number; length: number }>; microBatches: { feeds: Record<string, { offset: number; length: number }> }[] };
    const A = m.state['layer.lora_A.weight']!;
    expect(new Float32Array(replay.buffer.slice(replay.byteOffset + A.offset, replay.byteOffset + A.offset + A.length))).toEqual(w.params['layer.lora_A.weight']);
    const ids = m.microBatches[0]!.feeds['input_ids']!;
    expect(new Int32Array(replay.buffer.slice(replay.byteOffset + ids.offset, replay.byteOffset + ids.offset + ids.length))).toEqual(batch['input_ids']!.data);
  });

  it('refuses bad input by name', () => {
    expect(() => buildOnnxExport(input({ weights: () => undefined }))).toThrow(/reads frozen weight "embed.weight", which was not provided/);
    expect(() => buildOnnxExport(input({ weights: () => new Float32Array(3) }))).toThrow(/frozen weight "embed.weight": the graph wants float32 \[13, 16\] \(208 values\), got 3/);
    expect(() => buildOnnxExport(input({ graphs: [{ id: 'Train Step', graph: graphs.train, purpose: '' }] }))).toThrow(/names a file/);
    expect(() => buildOnnxExport(input({ graphs: [{ id: 'x', graph: graphs.eval, purpose: '' }, { id: 'x', graph: graphs.eval, purpose: '' }] }))).toThrow(/used twice/);
    const noParams = input();
    expect(() => buildOnnxExport({ ...noParams, replay: { ...noParams.replay!, params: {} } })).toThrow(/replay: no 4×16 value for trainable "layer.lora_A.weight"/);
    expect(() => buildOnnxExport({ ...noParams, replay: { ...noParams.replay!, microBatches: [{}] } })).toThrow(/micro-batch 0 has no "input_ids"/);
  });
});
