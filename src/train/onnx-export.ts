// A run's graphs as ONNX files (`tabtune export --onnx`, the app's download): the trainer's train-step, accumulate and
// eval graphs, the sample prompts' prefill/decode graphs, the base weights once as external data, and the feeds of the
// trainer's next optimizer step so that step can be replayed from the files alone (docs/onnx-export.md).
import { buildOnnxExport, type ExportFile, type ExportGraph, type ReplayStep } from '../engine/export.ts';
import { adamwHostScalars, ADAMW_INPUTS } from '../engine/optim.ts';
import { STEP_IO } from '../engine/step.ts';
import { buildGenerationGraphs } from '../models/generate.ts';
import type { LoadedModel } from './model-source.ts';
import { TABTUNE_VERSION } from './state.ts';
import type { Trainer } from './trainer.ts';

export interface OnnxExport {
  readonly files: ExportFile[];
  readonly manifest: Record<string, unknown>;
}

/** Everything the trainer runs, as files. `about` goes into the manifest (model id, revision, run config). */
export async function exportRunOnnx(trainer: Trainer, model: LoadedModel, about: Readonly<Record<string, unknown>> = {}): Promise<OnnxExport> {
  const g = trainer.graphs;
  const graphs: ExportGraph[] = [
    { id: 'train-step', graph: g.train, purpose: 'The last micro-batch of an optimizer step: forward, loss, backward, gradient normalisation and clipping, AdamW. Returns every updated tensor as X.next.' },
    { id: 'accumulate', graph: g.accumulate, purpose: 'An earlier micro-batch of a gradient-accumulation window: forward, loss, backward; adds gradients, NLL and target count to the accumulators.' },
    { id: 'eval', graph: g.eval, purpose: 'Forward and loss only: Σ NLL, target tokens and per-token NLL of a batch.' },
  ];
  const shape = trainer.sampleShape;
  if (shape) {
    const gen = buildGenerationGraphs(model.config, shape, trainer.plan, { einsumAttention: trainer.graphBuild.einsumAttention });
    graphs.push(
      { id: 'prefill', graph: gen.prefill, purpose: `Generation, first run: a right-padded prompt batch [${shape.batch}, ${shape.promptLen}] → next-token logits and the KV cache.` },
      { id: 'decode', graph: gen.decode, purpose: `Generation, one token per row per run with the KV cache (${shape.maxLen} slots per row).` },
    );
  }
  const next = await trainer.nextStep();
  const moments: Record<string, Float32Array> = {};
  for (const group of g.groups) {
    const m = new Float32Array(group.size);
    const v = new Float32Array(group.size);
    for (const slot of group.params) {
      m.set(next.state.m[slot.name]!, slot.offset);
      v.set(next.state.v[slot.name]!, slot.offset);
    }
    moments[STEP_IO.m(group.id)] = m;
    moments[STEP_IO.v(group.id)] = v;
  }
  const host = adamwHostScalars(next.lr, next.step, g.adamw);
  const replay: ReplayStep = {
    step: next.step,
    lr: next.lr,
    params: next.state.params,
    moments,
    microBatches: next.microBatches,
    scalars: { [ADAMW_INPUTS.lr]: host.lr, [ADAMW_INPUTS.stepSize]: host.stepSize, [ADAMW_INPUTS.bc2Sqrt]: host.bc2Sqrt },
  };
  // Tensors trained in full are graph inputs of the training graphs but frozen ones of the generation graphs: their
  // current values (not the checkpoint's) go into weights.bin.
  const full = new Set(trainer.fullTensors);
  return buildOnnxExport({
    graphs,
    step: g,
    weights: (name) => (full.has(name) ? next.state.params[name] : model.weights.get(name)),
    replay,
    about: { ...about, batch: trainer.shape.batch, seqLen: trainer.shape.seqLen },
    producerVersion: TABTUNE_VERSION,
  });
}
