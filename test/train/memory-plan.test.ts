// planMemory: the bill from config.json alone, and each refusal (a tensor over a GPU buffer limit, a total over the
// budget) with its numbers and fixes.
import { describe, expect, it } from 'vitest';
import { SMOLLM2_135M_SHAPES } from '../../scripts/fixtures/bench-checkpoint.ts';
import { parseModelConfig } from '../../src/models/config.ts';
import { parameterCount } from '../../src/models/weights.ts';
import { formatMemoryPlan, planMemory, type MemoryRun } from '../../src/train/index.ts';

const smol = SMOLLM2_135M_SHAPES.config;
const run = (over: Partial<MemoryRun> = {}): MemoryRun => ({
  maxLength: 256,
  lora: { r: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] },
  train: { batchSize: 4 },
  ...over,
});
const MiB = 1024 ** 2;

describe('planMemory', () => {
  it('bills weights as float32, the adapter with gradients and both AdamW moments, and activations', () => {
    const plan = planMemory(smol, run({ train: { batchSize: 2 } }));
    const b = plan.bill;
    const params = parameterCount(parseModelConfig(smol));
    expect(b.weightBytes).toBe(params * 4);
    // LoRA on q,k,v,o of 30 layers: r·(in+out) per module; q/o 576→576, k/v 576→192.
    const adapter = 30 * 8 * (2 * (576 + 576) + 2 * (576 + 192));
    expect(b.trainableParams).toBe(adapter);
    expect(b.totalParams).toBe(params + adapter);
    expect(b.trainableFraction).toBeCloseTo(adapter / (params + adapter), 12);
    expect(b.gradientBytes).toBe(adapter * 4);
    expect(b.optimizerBytes).toBe(2 * adapter * 4);
    expect(b.totalBytes).toBe(b.weightBytes + b.trainableBytes + b.gradientBytes + b.optimizerBytes + b.activationBytes);
    expect(b.largestTensor).toEqual({ name: 'embedding table [50257, 576]', bytes: 50257 * 576 * 4 });
    expect(plan.fits).toBe(true);
    expect(plan.problems).toEqual([]);
    // Activations grow with the tokens: twice the batch, at least twice the activations (while the logits stay whole).
    expect(b.activationBytes).toBeGreaterThanOrEqual(2 * planMemory(smol, run({ train: { batchSize: 1 } })).bill.activationBytes);
  });

  it('refuses an embedding table larger than the GPU buffer limit and names WASM and a smaller model as fixes', () => {
    const qwen = { ...smol, vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_attention_heads: 14, num_key_value_heads: 2, head_dim: 64, num_hidden_layers: 24 };
    const plan = planMemory(qwen, run({ maxLength: 32, train: { batchSize: 1 } }), { maxBufferSize: 256 * MiB, maxStorageBufferBindingSize: 128 * MiB });
    expect(plan.fits).toBe(false);
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]!.kind).toBe('tensor-too-large');
    expect(plan.problems[0]!.message).toBe(
      "the embedding table [151936, 896] takes 544.5 MB in one GPU buffer, over this GPU's maxStorageBufferBindingSize of 134.2 MB: use the WASM backend or pick a smaller model.",
    );
    expect(formatMemoryPlan(plan)).toContain('REFUSED: the embedding table [151936, 896]');
  });

  it('refuses whole logits over the limit with the longest max length that fits', () => {
    // Logits up to 128 MiB are one tensor (above that they are computed in 64 MiB chunks): a 32 MiB limit refuses them.
    const limit = 32 * MiB;
    const plan = planMemory(smol, run({ maxLength: 150, train: { batchSize: 4 } }), { maxStorageBufferBindingSize: limit });
    const logits = plan.problems.find((p) => p.message.includes('logits'));
    const fitLen = Math.floor(limit / (50257 * 4) / 4);
    expect(fitLen).toBe(41);
    expect(logits?.message).toBe(
      `the logits [4×150, 50257] takes 120.6 MB in one GPU buffer, over this GPU's maxStorageBufferBindingSize of 33.6 MB: lower max length to ${fitLen} or lower the batch size to 1, use the WASM backend or pick a smaller model.`,
    );
    // 41 really fits and 42 does not.
    expect(planMemory(smol, run({ maxLength: fitLen }), { maxStorageBufferBindingSize: limit }).problems.some((p) => p.message.includes('logits'))).toBe(false);
    expect(planMemory(smol, run({ maxLength: fitLen + 1 }), { maxStorageBufferBindingSize: limit }).problems.some((p) => p.message.includes('logits'))).toBe(true);
  });

  it('does not refuse logits over 128 MiB whole: they are computed in 64 MiB chunks, which fit a 128 MiB binding', () => {
    // 4 × 400 tokens × 50257 × 4 bytes = 321.6 MB whole; a chunk is 333 positions, 66.9 MB.
    const plan = planMemory(smol, run({ maxLength: 400, train: { batchSize: 4 } }), { maxStorageBufferBindingSize: 128 * MiB });
    expect(plan.problems).toEqual([]);
    expect(plan.bill.largestTensor.name).toBe('embedding table [50257, 576]');
  });

  it('refuses a total over the budget with the longest max length that fits it', () => {
    const budget = 1e9;
    const plan = planMemory(smol, run({ maxLength: 4096 }), { budgetBytes: budget });
    expect(plan.fits).toBe(false);
    const p = plan.problems[0]!;
    expect(p.kind).toBe('over-budget');
    const len = Number(/lower max length to (\d+)/.exec(p.message)?.[1]);
    expect(p.message).toMatch(/^the run needs about [\d.]+ GB \(weights 540\.6 MB, trainable \+ gradients \+ AdamW [\d.]+ MB, activations [\d.]+ GB for 4 × 4096 tokens\) but 1\.00 GB is available: lower max length to \d+ or pick a smaller model\.$/);
    expect(planMemory(smol, run({ maxLength: len }), { budgetBytes: budget }).fits).toBe(true);
    expect(planMemory(smol, run({ maxLength: len + 1 }), { budgetBytes: budget }).fits).toBe(false);
  });

  it('counts one copy of the weights per session that holds them where sessions hold them (WASM, CPU), one on WebGPU', () => {
    const gpu = planMemory(smol, run()).bill;
    expect(gpu.weightCopies).toBe(1);
    // train + accumulate + eval + the samples' decode session, and the samples' prefill fed them once more.
    const wasm = planMemory(smol, run(), { sessionWeights: true }).bill;
    expect(wasm.weightCopies).toBe(5);
    expect(wasm.totalBytes - gpu.totalBytes).toBe(4 * gpu.weightBytes);
    expect(planMemory(smol, run({ train: { batchSize: 4, evalEvery: 0, sampleEvery: 0 } }), { sessionWeights: true }).bill.weightCopies).toBe(2);
    expect(planMemory(smol, run({ train: { batchSize: 4, evalEvery: 10, sampleEvery: 0 } }), { sessionWeights: true }).bill.weightCopies).toBe(3);
    const text = formatMemoryPlan(planMemory(smol, run(), { sessionWeights: true }));
    expect(text).toMatch(/weights +2\.70 GB {2}\d[\d,]* parameters with the adapter, one copy per session that holds them \(5 × 540\.6 MB\)/);
  });

  it('says only "pick a smaller model" when even the weights exceed the budget', () => {
    const plan = planMemory(smol, run(), { budgetBytes: 100e6 });
    expect(plan.problems[0]!.message).toMatch(/available: pick a smaller model\.$/);
  });

  it('throws the config parser’s message for an unsupported architecture and the LoRA planner’s for a wrong target', () => {
    expect(() => planMemory({ ...smol, model_type: 'mamba', architectures: ['MambaForCausalLM'] }, run())).toThrow(/mamba/);
    expect(() => planMemory(smol, run({ lora: { r: 8, alpha: 16, targets: ['c_attn'] } }))).toThrow(/c_attn/);
  });
});
