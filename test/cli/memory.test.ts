// The memory bill in `tabtune step/train`: printed from config.json before the weights are fetched, and a run that
// cannot fit (a tensor over --max-buffer-bytes, a total over --memory-budget) refused with numbers and a fix — while
// the Hub mirror shows that model.safetensors was never requested.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMirror, type Mirror } from '../hub-mirror/server.ts';
import { DATA, tabtune } from './harness.ts';

const CHAT = join(DATA, 'chat.jsonl');
let mirror: Mirror;

beforeAll(async () => {
  mirror = await startMirror();
});
afterAll(async () => {
  await mirror.close();
});

const weightRequests = () => mirror.requests.filter((r) => r.path.endsWith('.safetensors'));
const step = (...extra: string[]) =>
  tabtune(['step', '--model', 'tabtune/tiny-llama@main', '--hub-endpoint', mirror.url, '--data', CHAT, '--max-length', '32', '--batch-size', '2', ...extra]);

describe('memory bill in the CLI', () => {
  it('refuses an embedding table larger than --max-buffer-bytes before downloading the weights', async () => {
    const before = weightRequests().length;
    // tiny-llama: vocab 128256 × hidden 32 float32 = 16.4 MB; a 5 MB buffer limit cannot hold it (the logits of
    // 1 × 8 tokens, 4.1 MB, fit).
    const r = await step('--max-buffer-bytes', String(5_000_000), '--max-length', '8', '--batch-size', '1');
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toContain('Memory bill for batch 1 × max length 8 (float32):');
    expect(r.err).toMatch(/largest tensor\s+16\.4 MB {2}embedding table \[128256, 32\]/);
    expect(r.err).toContain(
      "the run does not fit in memory: the embedding table [128256, 32] takes 16.4 MB in one GPU buffer, over this GPU's maxStorageBufferBindingSize of 5.0 MB: use the WASM backend or pick a smaller model.",
    );
    expect(r.err).not.toContain('logits [1×8');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(weightRequests().length).toBe(before);
  });

  it('takes the buffer limit from TABTUNE_MAX_BUFFER_BYTES too, and refuses a total over --memory-budget', async () => {
    const env = await tabtune(['step', '--model', 'tabtune/tiny-llama@main', '--hub-endpoint', mirror.url, '--data', CHAT, '--max-length', '32'], {
      env: { TABTUNE_MAX_BUFFER_BYTES: '4000000' },
    });
    expect(env.code).toBe(1);
    expect(env.err).toContain('embedding table [128256, 32] takes 16.4 MB');
    const budget = await step('--memory-budget', '10000000');
    expect(budget.code).toBe(1);
    expect(budget.err).toMatch(/the run needs about [\d.]+ MB \(weights [\d.]+ MB, .* for 2 × 32 tokens\) but 10\.0 MB is available: pick a smaller model\./);
    expect(weightRequests()).toEqual([]);
  });

  it('prints the bill and runs when the run fits', async () => {
    const r = await step('--max-buffer-bytes', String(64_000_000));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/ {2}weights\s+[\d.]+ MB {2}[\d,]+ parameters with the adapter/);
    expect(r.err).toMatch(/ {2}trainable parameters\s+[\d.]+ kB {2}[\d,]+ \([\d.]+%\)/);
    expect(r.err).not.toContain('REFUSED');
    expect(r.out).toMatch(/loss \d+\.\d+/);
    expect(weightRequests().length).toBeGreaterThan(0);
  });
});
