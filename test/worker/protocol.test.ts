// The worker protocol end to end in Node: real host, real client, real Hub mirror. Request ids and typed results,
// streamed progress events, cancellation, transferred (not copied) buffers, and errors that say what went wrong.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkerClient, WorkerRequestError } from '../../src/worker/client';
import { requestTransferables, type WorkerEvent } from '../../src/worker/protocol';
import { startHarness, type Harness } from './harness';

/** Element count of a local safetensors file, read independently of src/hub: u64 header length, JSON, shapes. */
function countLocal(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
    const buf = readFileSync(join(dir, f));
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape?: number[] }>;
    for (const [k, v] of Object.entries(header)) {
      if (k !== '__metadata__') total += (v.shape ?? []).reduce((a, b) => a * b, 1);
    }
  }
  return total;
}

let h: Harness;
let hub: string;
beforeAll(() => {
  h = startHarness();
  hub = inject('hubMirrorUrl');
});
afterAll(() => h.close());

describe('worker protocol', () => {
  it('announces itself ready', async () => {
    await expect(h.client.ready).resolves.toBeUndefined();
  });

  it('probes capability and explains a missing WebGPU (Node has no navigator.gpu)', async () => {
    const cap = await h.client.request('capability.probe', {});
    expect(cap.backend).toBe('wasm');
    expect(cap.webgpu.available).toBe(false);
    if (cap.webgpu.available) return;
    expect(cap.webgpu.reason.length).toBeGreaterThan(20);
    expect(cap.webgpu.hint).toMatch(/https|Chrome/);
  });

  it('inspects a fixture model through the Hub mirror, streaming progress', async () => {
    const events: WorkerEvent[] = [];
    const model = await h.client.request('model.inspect', {
      location: { endpoint: hub, repo: 'tabtune/tiny-llama', revision: 'main' },
    }, { onEvent: (e) => events.push(e) });
    expect(model.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(model.config.model_type).toBe('llama');
    expect(model.config.architectures).toEqual(['LlamaForCausalLM']);
    expect(model.config.num_hidden_layers).toBeGreaterThan(0);
    expect(model.tokenizer.hasTokenizerJson).toBe(true);
    expect(model.tokenizer.chatTemplate).toContain('start_header_id');
    expect(model.parameters.total).toBeGreaterThan(0);
    expect(model.files.some((f) => f.path === 'config.json')).toBe(true);
    expect(events.filter((e) => e.type === 'progress').map((e) => e.type === 'progress' && e.stage)).toContain('Reading config.json');
    expect(h.client.inFlight).toBe(0);
  });

  it('reads GPT-2 config keys (n_layer, n_embd, n_head) into the summary', async () => {
    const model = await h.client.request('model.inspect', {
      location: { endpoint: hub, repo: 'tabtune/tiny-gpt2', revision: 'main' },
    });
    expect(model.config.model_type).toBe('gpt2');
    expect(model.config.num_hidden_layers).toBeGreaterThan(0);
    expect(model.config.hidden_size).toBeGreaterThan(0);
    expect(model.tokenizer.chatTemplate).toBeNull();
  });

  it('counts parameters exactly from the sharded safetensors headers', async () => {
    const model = await h.client.request('model.inspect', {
      location: { endpoint: hub, repo: 'tabtune/tiny-qwen3', revision: 'main' },
    });
    const c = model.config;
    expect(model.files.some((f) => f.path === 'model.safetensors.index.json')).toBe(true);
    expect(model.parameters.total).toBe(countLocal('fixtures/generated/hub/tabtune/tiny-qwen3'));
    expect(model.parameters.total).toBeGreaterThan((c.vocab_size ?? 0) * (c.hidden_size ?? 0));
    expect(Object.values(model.parameters.byDtype).reduce((a, b) => a + b, 0)).toBe(model.parameters.total);
  });

  it('rejects with the hub error for a repo that does not exist', async () => {
    const err = await h.client.request('model.inspect', {
      location: { endpoint: hub, repo: 'tabtune/no-such-model', revision: 'main' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerRequestError);
    expect((err as WorkerRequestError).cancelled).toBe(false);
    expect((err as WorkerRequestError).message).toMatch(/no-such-model/);
  });

  it('cancels a request by id: the promise rejects as cancelled', async () => {
    const controller = new AbortController();
    const pending = h.client.request('model.inspect', {
      location: { endpoint: hub, repo: 'tabtune/tiny-qwen2', revision: 'main' },
    }, { signal: controller.signal });
    controller.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerRequestError);
    expect((err as WorkerRequestError).cancelled).toBe(true);
    expect(h.client.inFlight).toBe(0);
  });

  it('transfers uploaded bytes instead of copying them, and reports broken lines by number', async () => {
    const text = [
      JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }),
      '{"messages": [broken',
      JSON.stringify({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] }),
      '',
    ].join('\n');
    const bytes = new TextEncoder().encode(text).buffer as ArrayBuffer;
    const request = { type: 'dataset.preview' as const, source: { kind: 'bytes' as const, name: 'up.jsonl', bytes }, limit: 1 };
    expect(requestTransferables(request)).toEqual([bytes]);
    const preview = await h.client.request('dataset.preview', { source: request.source, limit: 1 });
    expect(bytes.byteLength).toBe(0); // detached: ownership moved to the worker side
    expect(preview.rowCount).toBe(2);
    expect(preview.rows).toHaveLength(1);
    expect(preview.fileFormat).toBe('jsonl');
    expect(preview.layout).toBe('messages');
    expect(preview.rows[0]).toMatchObject({ id: 'line 1', kind: 'messages', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] });
    expect(preview.issueCount).toBe(1);
    expect(preview.issues[0]?.where).toBe('line 2');
    expect(preview.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('lists the bundled datasets, each a file in public/datasets/ that previews with rows and no problems', async () => {
    const list = await h.client.request('dataset.bundled', {});
    expect(list.length).toBeGreaterThan(0);
    for (const d of list) {
      expect(d.title.trim(), d.file).not.toBe('');
      const bytes = readFileSync(join('public/datasets', d.file));
      const preview = await h.client.request('dataset.preview', {
        source: { kind: 'bytes', name: d.file, bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer },
        limit: 3,
      });
      expect(preview.rowCount, d.file).toBeGreaterThan(0);
      expect(preview.issueCount, d.file).toBe(0);
      expect(preview.layout, d.file).not.toBeNull();
      expect(preview.rows.length, d.file).toBe(Math.min(3, preview.rowCount));
    }
  });

  it('refuses an empty upload with a message naming the file', async () => {
    const err = await h.client.request('dataset.preview', {
      source: { kind: 'bytes', name: 'empty.jsonl', bytes: new ArrayBuffer(0) }, limit: 5,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/empty\.jsonl is empty/);
  });
});

describe('worker client without a healthy worker', () => {
  /** A Worker stand-in that accepts messages and never answers, so the client's own failure paths run. */
  class SilentWorker extends EventTarget {
    posted: unknown[] = [];
    postMessage(message: unknown): void {
      this.posted.push(message);
    }
  }

  it('fails every request in flight, and tells fatal listeners, when the worker script errors', async () => {
    const worker = new SilentWorker();
    const client = new WorkerClient(worker as never);
    const fatal: string[] = [];
    client.onFatal((e) => fatal.push(e.message));
    const a = client.request('capability.probe', {}).catch((e: unknown) => e);
    const b = client.request('dataset.bundled', {}).catch((e: unknown) => e);
    expect(client.inFlight).toBe(2);
    const ev = new Event('error') as Event & { message: string };
    ev.message = 'SyntaxError in worker.js';
    worker.dispatchEvent(ev);
    for (const err of [await a, await b]) {
      expect(err).toBeInstanceOf(WorkerRequestError);
      expect((err as Error).message).toMatch(/training worker failed: SyntaxError in worker\.js/);
    }
    expect(fatal).toHaveLength(1);
    expect(client.inFlight).toBe(0);
  });

  it('gives each request its own id and sends a cancel for that id only', () => {
    const worker = new SilentWorker();
    const client = new WorkerClient(worker as never);
    const controller = new AbortController();
    void client.request('capability.probe', {}).catch(() => undefined);
    void client.request('capability.probe', {}, { signal: controller.signal }).catch(() => undefined);
    controller.abort();
    expect(worker.posted).toEqual([
      { kind: 'request', id: 1, request: { type: 'capability.probe' } },
      { kind: 'request', id: 2, request: { type: 'capability.probe' } },
      { kind: 'cancel', id: 2 },
    ]);
  });

  it('settles a request whose message cannot be posted (DataCloneError), leaving nothing in flight', async () => {
    // A real MessagePort: its postMessage throws DataCloneError synchronously, as a Worker's does.
    const { port1, port2 } = new MessageChannel();
    try {
      const client = new WorkerClient(port1 as never);
      const notCloneable = { kind: 'url', url: 'x', name: () => 'a function cannot be cloned' };
      const err = await client.request('dataset.preview', { source: notCloneable as never, limit: 5 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerRequestError);
      expect((err as Error).message).toMatch(/Could not send "dataset\.preview" to the worker: .*could not be cloned/);
      expect(client.inFlight).toBe(0);
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('rejects at once, sending nothing, when the signal is already aborted', async () => {
    const worker = new SilentWorker();
    const client = new WorkerClient(worker as never);
    const err = await client.request('capability.probe', {}, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((err as WorkerRequestError).cancelled).toBe(true);
    expect(worker.posted).toEqual([]);
  });
});
