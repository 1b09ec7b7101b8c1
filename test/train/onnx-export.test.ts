// `tabtune export --onnx`: the tiny Llama's graphs as ONNX files with external weights, replayed by the standalone
// example script (onnxruntime-node alone, a fresh InferenceSession per .onnx path, feeds read per manifest.json) must
// give the loss and updated LoRA tensors that `tabtune train` gets for its first optimizer step, bit for bit on the CPU
// backend. Gradient accumulation 2 and LoRA dropout make the replay run both step graphs and feed dropout masks. The
// files are also decoded with the project's own onnx-proto messages and checked for structure.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/hub/safetensors';
import { fixture, ROOT, tabtune, tempDir } from '../cli/harness';

const { onnx } = pkg;
const run = promisify(execFile);
const DATA = 'public/datasets/tiny-codewords.jsonl';
const FLAGS = [
  '--model', fixture('llama'), '--data', DATA, '--max-length', '48', '--batch-size', '2', '--grad-accum', '2', '--seed', '5',
  '--lora-r', '4', '--lora-alpha', '8', '--lora-dropout', '0.1', '--lr', '0.01', '--warmup', '0', '--steps', '1',
  '--weight-decay', '0.01', '--backend', 'cpu',
];

interface Range {
  offset: number;
  length: number;
}

/** The fields read here of onnx-proto's toObject form (arrays and defaults filled in, int64 as numbers). */
interface DecodedModel {
  opsetImport: { domain: string; version: number }[];
  graph: {
    node: { name: string; domain: string; input: string[]; output: string[] }[];
    input: { name: string }[];
    output: { name: string }[];
    initializer: { name: string; dims: number[]; dataLocation: number; externalData: { key: string; value: string }[] }[];
  };
}

function tensors(bytes: Uint8Array): Map<string, Uint8Array> {
  const h = parseSafetensors(bytes);
  return new Map(h.tensors.map((t) => [t.name, bytes.subarray(h.dataStart + t.begin, h.dataStart + t.end)]));
}

/** Structural checks an ONNX checker makes that matter here: opsets, topological inputs, outputs produced, external
 * data inside the file it names. Returns the number of nodes. */
function checkModel(dir: string, file: string): number {
  const decoded = onnx.ModelProto.decode(readFileSync(join(dir, file)));
  const model = onnx.ModelProto.toObject(decoded, { arrays: true, defaults: true, longs: Number }) as DecodedModel;
  const graph = model.graph;
  const domains = new Map(model.opsetImport.map((o) => [o.domain, o.version]));
  expect(domains.get(''), `${file}: default opset`).toBe(21);
  const known = new Set<string>([...graph.input.map((i) => i.name), ...graph.initializer.map((t) => t.name)]);
  for (const node of graph.node) {
    expect(domains.has(node.domain), `${file}: node ${node.name} uses domain "${node.domain}" without an opset import`).toBe(true);
    for (const input of node.input) if (input !== '') expect(known.has(input), `${file}: node ${node.name} reads "${input}" before it exists`).toBe(true);
    for (const output of node.output) known.add(output);
  }
  for (const o of graph.output) expect(known.has(o.name), `${file}: output ${o.name} is never produced`).toBe(true);
  const weights = statSync(join(dir, 'weights.bin')).size;
  for (const t of graph.initializer.filter((i) => i.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)) {
    const kv = Object.fromEntries(t.externalData.map((e) => [e.key, e.value]));
    expect(kv['location']).toBe('weights.bin');
    const numel = t.dims.reduce((a, d) => a * d, 1);
    expect(Number(kv['length'])).toBe(numel * 4);
    expect(Number(kv['offset']) % 4096).toBe(0);
    expect(Number(kv['offset']) + Number(kv['length'])).toBeLessThanOrEqual(weights);
  }
  return graph.node.length;
}

describe('tabtune export --onnx', () => {
  it('refuses an existing folder and --merged together with --onnx', async () => {
    const existing = tempDir();
    const again = await tabtune(['export', ...FLAGS, '--onnx', existing]);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`--onnx ${existing} already exists; pick a new folder so nothing is overwritten.`);
    const both = await tabtune(['export', ...FLAGS, '--onnx', join(existing, 'x'), '--merged', join(existing, 'y')]);
    expect(both.code).toBe(1);
    expect(both.err).toContain('give --merged OUT or --onnx DIR, not both');
  });

  it('replays the first optimizer step from the files alone, bit for bit with tabtune train', { timeout: 240_000 }, async () => {
    const dir = join(tempDir(), 'onnx');
    const json = join(tempDir(), 'export.json');
    const exported = await tabtune(['export', ...FLAGS, '--onnx', dir, '--json', json]);
    expect(exported.code, exported.err).toBe(0);
    for (const f of ['train-step.onnx', 'accumulate.onnx', 'eval.onnx', 'prefill.onnx', 'decode.onnx', 'weights.bin', 'replay.bin', 'manifest.json']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(json, 'utf8')) as { files: { path: string; bytes: number }[]; nodes: Record<string, number> };
    for (const f of summary.files) expect(statSync(join(dir, f.path)).size).toBe(f.bytes);

    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      graphs: Record<string, { file: string; nodes: number; feeds: string[]; inputs: { name: string; role: string; meaning: string; external?: Range }[] }>;
      feedBack: { output: string; input: string }[];
      replay: { microBatches: { graph: string }[] };
    };
    // Structure, and the manifest agrees with the files.
    for (const [id, g] of Object.entries(manifest.graphs)) {
      expect(checkModel(dir, g.file)).toBe(g.nodes);
      expect(summary.nodes[id]).toBe(g.nodes);
      for (const i of g.inputs) {
        expect(i.meaning.length, `${id}: ${i.name} has a meaning`).toBeGreaterThan(0);
        expect(i.role === 'frozen', `${id}: ${i.name} is external exactly when frozen`).toBe(i.external !== undefined);
      }
    }
    const train = manifest.graphs['train-step']!;
    expect(train.inputs.filter((i) => i.role === 'trainable').length).toBeGreaterThan(0);
    expect(train.feeds.some((n) => n.startsWith('lora_dropout.'))).toBe(true);
    expect(manifest.feedBack.some((f) => f.input === 'optim.m.decay' && f.output === 'optim.m.decay.next')).toBe(true);
    expect(manifest.replay.microBatches.map((m) => m.graph)).toEqual(['accumulate', 'train-step']);

    // TabTune's own first step, then the replay in a separate process with nothing but the files.
    const out = tempDir();
    const trained = await tabtune(['train', ...FLAGS, '--eval-every', '0', '--sample-every', '0', '--checkpoint-every', '0', '--out', out]);
    expect(trained.code, trained.err).toBe(0);
    const saved = join(tempDir(), 'replayed.safetensors');
    const script = join(ROOT, 'examples', 'onnx-replay', 'replay.mjs');
    const replay = await run(process.execPath, [script, dir, '--threads', String(availableParallelism()), '--save', saved], { cwd: ROOT });
    const replayed = JSON.parse(replay.stdout) as { loss: number; targetTokens: number };
    const state = JSON.parse(readFileSync(join(out, 'trainer_state.json'), 'utf8')) as { log_history: { loss?: number; num_tokens?: number }[] };
    expect(replayed.loss).toBe(state.log_history[0]!.loss);
    expect(replayed.targetTokens).toBe(state.log_history[0]!.num_tokens);

    const ours = tensors(new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors'))));
    const theirs = tensors(new Uint8Array(readFileSync(saved)));
    expect([...theirs.keys()].sort()).toEqual([...ours.keys()].sort());
    let changed = 0;
    for (const [name, bytes] of ours) {
      expect(Buffer.compare(Buffer.from(theirs.get(name)!), Buffer.from(bytes)), name).toBe(0);
      if (name.includes('lora_B') && new Float32Array(bytes.slice().buffer).some((x) => x !== 0)) changed += 1;
    }
    // lora_B starts at zero: after one step it must have moved, or the comparison proves little.
    expect(changed).toBeGreaterThan(0);
  });
});
