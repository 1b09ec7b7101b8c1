// ONNX export at SmolLM2-135M's shapes (`npm run bench:onnx-export [-- --batch B --seq T --replay --json FILE]`):
// writes the random bench checkpoint (scripts/fixtures/bench-checkpoint.ts), runs `tabtune export --onnx` on it
// in-process (CPU backend), reports every file's size, the time, and the largest .onnx against protobuf's 2 GB limit,
// decodes train-step.onnx with onnx-proto to check its external data lies inside weights.bin, and with --replay runs
// examples/onnx-replay/replay.mjs on the files (stock onnxruntime-node, no TabTune code), times it, and compares its
// loss and updated adapter tensors byte for byte with `tabtune train --steps 1` on the same flags.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkg from 'onnx-proto';
import { runCli } from '../src/cli/main.ts';
import { parseSafetensors } from '../src/hub/safetensors.ts';
import { BENCH_HUB_DIR, BENCH_REPO, writeBenchCheckpoint } from '../scripts/fixtures/bench-checkpoint.ts';
import { readFlags } from './flags.ts';

const { onnx } = pkg;

/** Tensor name → its bytes, from a safetensors file. */
function tensorBytes(path: string): Map<string, Buffer> {
  const file = readFileSync(path);
  const h = parseSafetensors(new Uint8Array(file.buffer, file.byteOffset, file.byteLength));
  return new Map(h.tensors.map((t) => [t.name, file.subarray(h.dataStart + t.begin, h.dataStart + t.end)]));
}
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROTOBUF_LIMIT = 2 ** 31;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const replay = argv.includes('--replay');
  const flags = readFlags(argv.filter((a) => a !== '--replay'), ['batch', 'seq', 'json']);
  const batch = flags.int('batch', 1);
  const seq = flags.int('seq', 64);
  const written = writeBenchCheckpoint();
  const model = join(BENCH_HUB_DIR, BENCH_REPO);
  const work = mkdtempSync(join(tmpdir(), 'tabtune-onnx-bench-'));
  const out = join(work, 'onnx');
  const summaryPath = join(work, 'export.json');
  try {
    console.log(`checkpoint ${written.repo}: ${(written.weightBytes / 1e6).toFixed(0)} MB BF16 safetensors`);
    const t0 = performance.now();
    let err = '';
    const runFlags = ['--model', model, '--data', 'public/datasets/tiny-codewords.jsonl', '--template', 'alpaca', '--batch-size', String(batch),
      '--max-length', String(seq), '--warmup', '0', '--steps', '1', '--backend', 'cpu'];
    const io = (out: (t: string) => void) => ({ cwd: ROOT, env: {}, out, err: (t: string) => void (err += t), isTTY: false, signal: { aborted: false } });
    const code = await runCli(['export', ...runFlags, '--onnx', out, '--json', summaryPath], io((t) => process.stdout.write(t)));
    const exportSeconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`tabtune export failed:\n${err}`);
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as { files: { path: string; bytes: number }[]; nodes: Record<string, number>; seconds: number };
    const largestOnnx = Math.max(...summary.files.filter((f) => f.path.endsWith('.onnx')).map((f) => f.bytes));
    console.log(`export (load + graphs + trainer + files): ${exportSeconds.toFixed(1)} s; largest .onnx ${(largestOnnx / 1e6).toFixed(2)} MB ` +
      `= ${((100 * largestOnnx) / PROTOBUF_LIMIT).toFixed(3)} % of protobuf's 2 GB`);

    const weights = statSync(join(out, 'weights.bin')).size;
    const decoded = onnx.ModelProto.toObject(onnx.ModelProto.decode(readFileSync(join(out, 'train-step.onnx'))), { arrays: true, longs: Number }) as {
      graph: { initializer: { name: string; externalData?: { key: string; value: string }[] }[] };
    };
    let external = 0;
    for (const t of decoded.graph.initializer) {
      const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      if (kv['location'] === undefined) continue;
      external += 1;
      if (Number(kv['offset']) + Number(kv['length']) > weights) throw new Error(`${t.name}: external data past the end of weights.bin`);
    }
    console.log(`train-step.onnx: ${external} external initializers, all inside weights.bin (${(weights / 1e6).toFixed(1)} MB)`);

    let replayResult: Record<string, unknown> | null = null;
    if (replay) {
      const r0 = performance.now();
      const saved = join(work, 'replayed.safetensors');
      const stdout = execFileSync(process.execPath, [join(ROOT, 'examples/onnx-replay/replay.mjs'), out, '--save', saved], { encoding: 'utf8' });
      replayResult = { ...(JSON.parse(stdout) as Record<string, unknown>), seconds: (performance.now() - r0) / 1000 };
      console.log(`replay (stock onnxruntime-node, CPU): ${JSON.stringify(replayResult)}`);
      // TabTune's own first step on the same flags: the loss and every updated adapter tensor, compared byte for byte.
      const trainDir = join(work, 'train');
      if ((await runCli(['train', ...runFlags, '--eval-every', '0', '--sample-every', '0', '--checkpoint-every', '0', '--out', trainDir], io(() => {}))) !== 0) {
        throw new Error(`tabtune train failed:\n${err}`);
      }
      const logged = (JSON.parse(readFileSync(join(trainDir, 'trainer_state.json'), 'utf8')) as { log_history: { loss: number }[] }).log_history[0]!.loss;
      const ours = tensorBytes(join(trainDir, 'adapter_model.safetensors'));
      const theirs = tensorBytes(saved);
      const differ = [...ours].filter(([name, bytes]) => !theirs.get(name)?.equals(bytes)).map(([name]) => name);
      replayResult['sameAsTabTune'] = { loss: logged === replayResult['loss'], tensors: ours.size, differing: differ.length };
      console.log(`tabtune train step 1: loss ${logged}; replay ${logged === replayResult['loss'] ? 'equal' : 'DIFFERENT'}; ` +
        `${ours.size - differ.length}/${ours.size} adapter tensors bit-identical`);
    }
    const json = flags.get('json');
    if (json) writeFileSync(json, `${JSON.stringify({ bench: 'onnx-export', checkpoint: BENCH_REPO, batch, seq, exportSeconds, files: summary.files, nodes: summary.nodes, largestOnnx, replay: replayResult }, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
