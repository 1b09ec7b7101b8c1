// `tabtune step`: one batch by hand — the run's first batch (the seeded order over the training split, as the browser's
// batch inspector shows it) through tokenizer, masks,
// forward, loss and gradients, with no optimizer step. Prints the batch, the loss, the target count, the worst tokens
// and every trainable tensor's gradient norm; `--json` and `--grads` (F32 safetensors under PEFT keys) for scripts.
import { gradientSafetensors } from '../../train/session.ts';
import { sortedJson } from '../../train/json.ts';
import { DATA_FLAGS, HUB_FLAGS, LORA_FLAGS, MEMORY_FLAGS, parseFlags, str } from '../args.ts';
import { resolve, writeFile } from '../files.ts';
import { debugExample, topOffenders } from '../format.ts';
import type { CliIO } from '../load.ts';
import { openBackend, setup } from '../setup.ts';

export const STEP_HELP = `tabtune step --model M --data FILE [--tokenizer T] [data flags] [--adapter DIR | --lora-r R --lora-alpha A
  --lora-targets LIST] [--train norms,biases,embeddings,head] [--train-layers LIST] [--batch-size B] [--seed S] [--eval-fraction F] [--backend cpu|wasm|webgpu] [--json FILE] [--grads FILE]
  [--max-buffer-bytes N] [--memory-budget N]
Runs the run's first batch (seeded order, eval rows held out) and prints loss, target tokens, per-token loss and gradient norms.
`;

export async function stepCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const v = parseFlags('step', argv, {
    ...HUB_FLAGS, ...DATA_FLAGS, ...LORA_FLAGS, ...MEMORY_FLAGS, model: { type: 'string' }, tokenizer: { type: 'string' },
    'batch-size': { type: 'string' }, seed: { type: 'string' }, 'eval-fraction': { type: 'string' }, backend: { type: 'string' }, json: { type: 'string' }, grads: { type: 'string' },
  });
  if (v['help']) return io.out(STEP_HELP), 0;
  const s = await setup(v, io, 'step');
  const backend = await openBackend(s.backendKind);
  const trainer = await s.session.createTrainer({ backend, model: s.model, ...(s.adapter ? { initialAdapter: s.adapter.params } : {}) });
  try {
    const r = await s.session.inspect(trainer);
    const tok = s.tokenizer.tokenizer;
    io.out(`Batch: ${r.batch} examples × ${r.seqLen} tokens on ${backend.label} (the run's first batch: seed ${s.session.config.seed}, eval rows held out)\n\n`);
    r.examples.forEach((e, i) => io.out(`--- example ${r.indices[i]} (${e.id}) ---\n${debugExample(e, tok, false)}\n`));
    io.out(`loss ${r.loss.toFixed(6)}\ntarget tokens ${r.targetTokens}\ngrad norm ${r.gradNorm.toExponential(4)}\n\n`);
    io.out('Highest per-token loss (row, position, token, nll):\n');
    for (const o of topOffenders(r.tokenNll, r.examples, r.seqLen, 10)) {
      io.out(`  ${o.row}  ${String(o.position).padStart(4)}  ${JSON.stringify(tok.tokenText(o.id))} (${o.id})  ${o.nll.toFixed(4)}\n`);
    }
    io.out('\nGradient norm per trainable tensor:\n');
    for (const n of r.gradNorms) io.out(`  ${n.norm.toExponential(4)}  ${n.name}\n`);
    const json = str(v, 'json');
    if (json) writeFile(resolve(io.cwd, json), sortedJson({
      loss: r.loss, target_tokens: r.targetTokens, grad_norm: r.gradNorm, example_indices: r.indices, example_ids: r.examples.map((e) => e.id),
    }));
    const gradsPath = str(v, 'grads');
    if (gradsPath) {
      writeFile(resolve(io.cwd, gradsPath), gradientSafetensors(r));
    }
    return 0;
  } finally {
    await trainer.release();
    await backend.release();
  }
}
