// Graph summaries on the tiny Llama's real LoRA step graphs: every node is counted once by op, by phase and by layer;
// backward nodes land in the layer whose forward made them; the optimizer appears only in graphs that update; the
// largest tensors come first. Also what export's serializer writes agrees with the summary's node count.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerOf, summarizeGraph } from '../../src/engine/summary';
import { parseModelConfig } from '../../src/models/config';
import { planLora } from '../../src/models/lora';
import { buildTrainGraphs } from '../../src/train/graphs';

const ROOT = join(import.meta.dirname, '..', '..');
const cfg = parseModelConfig(JSON.parse(readFileSync(join(ROOT, 'fixtures/generated/hub/tabtune/tiny-llama/config.json'), 'utf8')));
const plan = planLora(cfg, { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'] });
const graphs = buildTrainGraphs(cfg, plan, { batch: 2, seqLen: 16 }, { maxGradNorm: 1, weightDecay: 0.01 });

describe('summarizeGraph', () => {
  it('counts every node once by op, phase and layer', () => {
    const s = summarizeGraph(graphs.train);
    expect(s.nodes).toBe(graphs.train.nodes.length);
    expect(s.byOp.reduce((n, o) => n + o.count, 0)).toBe(s.nodes);
    expect(s.byPhase.forward + s.byPhase.backward + s.byPhase.optimizer).toBe(s.nodes);
    expect(s.byLayer.reduce((n, l) => n + l.total, 0)).toBe(s.nodes);
    for (let i = 1; i < s.byOp.length; i++) expect(s.byOp[i - 1]!.count).toBeGreaterThanOrEqual(s.byOp[i]!.count);
    // Model order: prelude, then the blocks by index, then the rest.
    const layers = s.byLayer.map((l) => l.layer);
    expect(layers.slice(0, 3)).toEqual(['prelude', 'layers.0', 'layers.1']);
    expect(layers).toContain('top');
  });

  it('charges backward nodes to the layer whose forward made them and keeps the optimizer apart', () => {
    const s = summarizeGraph(graphs.train);
    for (const i of [0, 1]) {
      const layer = s.byLayer.find((l) => l.layer === `layers.${i}`)!;
      expect(layer.forward).toBeGreaterThan(0);
      expect(layer.backward).toBeGreaterThan(0);
      expect(layer.optimizer).toBe(0);
    }
    expect(s.byPhase.optimizer).toBeGreaterThan(0);
    const optimNodes = graphs.train.nodes.filter((n) => n.phase === 'optimizer');
    expect(optimNodes.every((n) => n.name.startsWith('/optim/'))).toBe(true);
    expect(graphs.train.nodes.filter((n) => n.phase === 'backward').every((n) => n.name.startsWith('/grad/'))).toBe(true);
    expect(layerOf('/grad/layers.1/attn/MatMul_900')).toBe('layers.1');
    expect(layerOf('/optim/Add_3')).toBe('top');

    const ev = summarizeGraph(graphs.eval);
    expect(ev.byPhase.backward).toBe(0);
    expect(ev.byPhase.optimizer).toBe(0);
    const acc = summarizeGraph(graphs.accumulate);
    expect(acc.byPhase.backward).toBeGreaterThan(0);
    // Accumulation only adds gradients to the running sums: far fewer optimizer nodes than AdamW.
    expect(acc.byPhase.optimizer).toBeLessThan(s.byPhase.optimizer);
  });

  it('lists the largest tensors first, with input roles and producing ops', () => {
    const s = summarizeGraph(graphs.train, { top: 5 });
    expect(s.largest).toHaveLength(5);
    for (let i = 1; i < s.largest.length; i++) expect(s.largest[i - 1]!.bytes).toBeGreaterThanOrEqual(s.largest[i]!.bytes);
    const embed = graphs.frozen.find((f) => f.name.includes('embed_tokens'))!;
    const all = summarizeGraph(graphs.train, { top: Infinity });
    const row = all.largest.find((t) => t.name === embed.name)!;
    expect(row).toMatchObject({ kind: 'input', role: 'frozen', bytes: embed.shape.reduce((a, b) => a * b, 1) * 4 });
    expect(all.largest.find((t) => t.kind === 'node')).toHaveProperty('op');
    expect(s.inputBytes.frozen).toBe(graphs.frozen.reduce((n, f) => n + f.shape.reduce((a, b) => a * b, 1) * 4, 0));
    expect(s.inputBytes.trainable).toBe(graphs.trainable.reduce((n, f) => n + f.shape.reduce((a, b) => a * b, 1) * 4, 0));
  });
});
