// `tabtune step` on WASM (onnxruntime-web), native CPU (onnxruntime-node's CPU EP) and WebGPU (onnxruntime-node on
// SwiftShader, CPU fallback disabled) agree to 1e-5 relative on the loss, the gradient norm and every gradient tensor.
// Its own file: WebGPU shader compilation on SwiftShader is slow, and vitest runs files in parallel.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, tensorToFloat32 } from '../../src/hub/index.ts';
import { webgpuAvailable, WEBGPU_SKIP_REASON } from '../runtime/webgpu-env.ts';
import { DATA, fixture, read, readJson, tabtune, tempDir } from './harness.ts';

const TEXT = join(DATA, 'text.jsonl');
const STEP = ['--max-length', '24', '--batch-size', '2'];
const FAST = [...STEP, '--eval-fraction', '0', '--eval-every', '0', '--sample-every', '0', '--checkpoint-every', '0'];

function tensors(path: string): Map<string, Float32Array> {
  const bytes = new Uint8Array(read(path));
  const header = parseSafetensors(bytes);
  return new Map(header.tensors.map((t) => [t.name, tensorToFloat32(header, bytes, t.name)]));
}

/** ‖a − b‖₂ / ‖b‖₂ over a whole tensor: float32 reductions summed in another order differ elementwise near zero. */
function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

interface StepResult {
  json: { loss: number; target_tokens: number; grad_norm: number };
  grads: Map<string, Float32Array>;
}

/** A trained adapter (B ≠ 0), so the lora_A gradients are non-zero too; trained on the CLI's default backend. */
async function trainedAdapter(dir: string): Promise<string> {
  const adapter = join(dir, 'adapter');
  const t = await tabtune(['train', '--model', fixture('gpt2'), '--data', TEXT, ...FAST, '--steps', '2', '--lr', '1e-2', '--warmup', '0', '--lora-targets', 'c_attn,c_fc', '--out', adapter]);
  expect(t.code, t.err).toBe(0);
  return adapter;
}

async function step(dir: string, adapter: string, backend: string): Promise<StepResult> {
  const r = await tabtune(['step', '--model', fixture('gpt2'), '--data', TEXT, ...STEP, '--adapter', adapter, '--backend', backend, '--json', join(dir, `${backend}.json`), '--grads', join(dir, `${backend}.safetensors`)]);
  expect(r.code, r.err).toBe(0);
  return { json: readJson<StepResult['json']>(join(dir, `${backend}.json`)), grads: tensors(join(dir, `${backend}.safetensors`)) };
}

/** Same targets, loss, gradient norm (1e-5 relative) and every gradient tensor (1e-5 relative in L2). */
function expectAgree(other: StepResult, wasm: StepResult): void {
  expect(other.json.target_tokens).toBe(wasm.json.target_tokens);
  expect(Math.abs(other.json.loss - wasm.json.loss) / wasm.json.loss).toBeLessThan(1e-5);
  expect(Math.abs(other.json.grad_norm - wasm.json.grad_norm) / wasm.json.grad_norm).toBeLessThan(1e-5);
  expect([...other.grads.keys()].sort()).toEqual([...wasm.grads.keys()].sort());
  for (const [k, g] of wasm.grads) {
    expect(g.some((x) => x !== 0), `${k} is all zeros`).toBe(true);
    expect(relErr(other.grads.get(k)!, g), k).toBeLessThan(1e-5);
  }
  expect(wasm.json.grad_norm).toBeGreaterThan(0);
}

describe('tabtune step: native CPU vs WASM', () => {
  it('agree to 1e-5 relative on loss and every gradient, and cpu is the default backend', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const adapter = await trainedAdapter(dir);
    const wasm = await step(dir, adapter, 'wasm');
    const cpu = await step(dir, adapter, 'cpu');
    expectAgree(cpu, wasm);
    // No --backend: the native CPU EP, and the output says so.
    const r = await tabtune(['step', '--model', fixture('gpt2'), '--data', TEXT, ...STEP, '--adapter', adapter]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/on CPU \(onnxruntime-node, \d+ threads\)/);
  });
});

describe.skipIf(!webgpuAvailable)(`tabtune step: WASM vs WebGPU${webgpuAvailable ? '' : ` (${WEBGPU_SKIP_REASON})`}`, () => {
  it('agree to 1e-5 relative on loss and every gradient (PEFT-keyed --grads)', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const adapter = await trainedAdapter(dir);
    expectAgree(await step(dir, adapter, 'webgpu'), await step(dir, adapter, 'wasm'));
  });
});
