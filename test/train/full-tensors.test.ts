// Full-tensor training as a run-config choice, through the trainer's own step graphs on the WASM runtime: for each
// subset (norms, biases, embeddings, a whole layer) the gradients of the trained base tensors equal the float64
// PyTorch reference (test/golden, scripts/fixtures/reference.py), and the rest of the model stays frozen. At init LoRA
// B is zero, so the adapter does not change the loss and the reference's no-adapter gradients apply.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Example } from '../../src/data/example';
import { createNodeBackend } from '../../src/runtime/node';
import type { Backend } from '../../src/runtime/backend';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import { folderSource } from '../../src/cli/files';
import { loadModel, type LoadedModel } from '../../src/train/model-source';
import { resolveConfig, resolveSubset } from '../../src/train/session';
import { Trainer } from '../../src/train/trainer';
import { FAMILIES, loadFixture, relError, type Family } from '../models/fixture';

const ROOT = join(import.meta.dirname, '..', '..');

let backend: Backend;
beforeAll(async () => {
  backend = await createNodeBackend('wasm', { threads: 1 });
});
afterAll(() => backend.release());

/** The golden batch's rows as examples (cut at their attention mask: the collator pads them again). */
function examples(family: Family): Example[] {
  const { input_ids, attention_mask, labels } = loadFixture(family).golden.batch;
  return input_ids.map((row, b) => {
    const n = attention_mask[b]!.reduce((s, m) => s + m, 0);
    return {
      id: `row ${b}`, text: '', ids: row.slice(0, n), labels: Int32Array.from(labels[b]!.slice(0, n)), starts: new Int32Array(n), ends: new Int32Array(n),
      turns: [], messages: [], templated: false, fullLength: n, notes: [],
    };
  });
}

const models = new Map<Family, LoadedModel>();
async function model(family: Family): Promise<LoadedModel> {
  let m = models.get(family);
  if (!m) {
    m = await loadModel(folderSource(join(ROOT, 'fixtures/generated/hub/tabtune', `tiny-${family}`)));
    models.set(family, m);
  }
  return m;
}

/** The run config a session would resolve for the family (GPT-2's default targets are c_attn). */
function config(family: Family, full: RunConfig['full'], steps = 1): RunConfig {
  const base = defaultRunConfig();
  return resolveConfig({ ...base, full, train: { ...base.train, batchSize: 2, steps, warmupSteps: 0 } }, loadFixture(family).cfg);
}

const SUBSETS: [string, RunConfig['full']][] = [
  ['norms', { groups: ['norms'], layers: [] }],
  ['biases', { groups: ['biases'], layers: [] }],
  ['embeddings', { groups: ['embeddings'], layers: [] }],
  ['layer 1', { groups: [], layers: [1] }],
];

// qwen2 (RMSNorm, q/k/v biases) and gpt2 (LayerNorm, every bias) cover every subset; the models' own golden test checks
// full gradients on all families at the graph level.
describe.each(FAMILIES.filter((f) => f === 'qwen2' || f === 'gpt2'))('%s: full tensors trained beside the adapter', (family) => {
  // Llama and Qwen3 have no biases (attention_bias false), so there is nothing to train in that group.
  const subsets = SUBSETS.filter(([name]) => name !== 'biases' || family === 'qwen2' || family === 'gpt2');
  it.each(subsets)('%s: gradients of the trained tensors equal the reference', { timeout: 120_000 }, async (subset, full) => {
    const fx = loadFixture(family);
    const rows = examples(family);
    const m = await model(family);
    const trainer = await Trainer.create({ backend, model: m, config: config(family, full), subset: resolveSubset(config(family, full), m.config), train: rows, eval: [], padId: 0 });
    try {
      expect(trainer.fullTensors.length, `${subset} selects tensors in ${family}`).toBeGreaterThan(0);
      const trainable = trainer.graphs.trainable.map((s) => s.name);
      for (const n of trainer.fullTensors) expect(trainable).toContain(n);
      // Everything else stays a frozen input of the step graph.
      for (const s of trainer.graphs.frozen) expect(trainer.fullTensors).not.toContain(s.name);
      const g = await trainer.gradients(rows);
      let compared = 0;
      for (const n of trainer.fullTensors) {
        const want = fx.golden.full_grads[n];
        if (want) {
          expect(relError(g.grads[n]!, want.data), n).toBeLessThanOrEqual(1e-3);
          compared++;
        }
        const emb = fx.golden.embedding_grad;
        if (n === emb.name) {
          const hidden = g.grads[n]!.length / m.config.vocabSize;
          const rowsOf = emb.rows.flatMap((r) => Array.from(g.grads[n]!.subarray(r * hidden, (r + 1) * hidden)));
          expect(relError(rowsOf, emb.data), n).toBeLessThanOrEqual(1e-3);
          compared++;
        }
      }
      expect(compared, `${subset} compared against the reference`).toBeGreaterThan(0);
    } finally {
      await trainer.release();
    }
  });

  it('a step moves the trained tensors and leaves the base weights as loaded', { timeout: 120_000 }, async () => {
    const m = await model(family);
    const rows = examples(family);
    const before = Float32Array.from(m.weights.get(loadFixture(family).golden.embedding_grad.name)!);
    const c = config(family, { groups: ['norms', 'embeddings'], layers: [] });
    const trainer = await Trainer.create({ backend, model: m, config: c, subset: resolveSubset(c, m.config), train: rows, eval: [], padId: 0 });
    try {
      await trainer.run();
      const c = await trainer.checkpoint();
      const name = loadFixture(family).golden.embedding_grad.name;
      expect(relError(c.params[name]!, before)).toBeGreaterThan(0);
      expect(Array.from(m.weights.get(name)!)).toEqual(Array.from(before));
    } finally {
      await trainer.release();
    }
  });
});
