// `tabtune step`: one batch by hand — the first B examples (file order, after dropping) through tokenizer, masks,
// forward, loss and gradients, with no optimizer step. Prints the batch, the loss, the target count, the worst tokens
// and every trainable tensor's gradient norm; `--json` and `--grads` (F32 safetensors under PEFT keys) for scripts.
import { writeSafetensors } from '../../hub/index.ts';
import { Trainer } from '../../train/trainer.ts';
import { paddingId } from '../../train/dataset.ts';
import { sortedJson } from '../../train/json.ts';
import { DATA_FLAGS, HUB_FLAGS, LORA_FLAGS, MEMORY_FLAGS, parseFlags, str } from '../args.ts';
import { resolve, writeFile } from '../files.ts';
import { debugExample, topOffenders } from '../format.ts';
import type { CliIO } from '../load.ts';
import { openBackend, setup } from '../setup.ts';

export const STEP_HELP = `tabtune step --model M --data FILE [--tokenizer T] [data flags] [--adapter DIR | --lora-r R --lora-alpha A
  --lora-targets LIST] [--batch-size B] [--seed S] [--backend cpu|wasm|webgpu] [--json FILE] [--grads FILE]
  [--max-buffer-bytes N] [--memory-budget N]
Runs the first B examples as one batch and prints loss, target tokens, per-token loss and gradient norms.
`;

export async function stepCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const v = parseFlags('step', argv, {
    ...HUB_FLAGS, ...DATA_FLAGS, ...LORA_FLAGS, ...MEMORY_FLAGS, model: { type: 'string' }, tokenizer: { type: 'string' },
    'batch-size': { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' }, json: { type: 'string' }, grads: { type: 'string' },
  });
  if (v['help']) return io.out(STEP_HELP), 0;
  const s = await setup(v, io, 'step');
  const B = Math.min(s.config.train.batchSize, s.dataset.examples.length);
  const examples = s.dataset.examples.slice(0, B);
  const backend = await openBackend(s.backendKind);
  const trainer = await Trainer.create({
    backend, model: s.model, config: s.config, train: examples, eval: [], padId: paddingId(s.tokenizer.tokenizer),
    ...(s.adapter ? { initialAdapter: s.adapter.params } : {}),
  });
  try {
    const r = await trainer.gradients(examples);
    const tok = s.tokenizer.tokenizer;
    io.out(`Batch: ${B} examples × ${trainer.shape.seqLen} tokens on ${backend.label}\n\n`);
    examples.forEach((e, i) => io.out(`--- example ${i} (${e.id}) ---\n${debugExample(e, tok, false)}\n`));
    let total = 0;
    const norms: [string, number][] = [];
    for (const spec of trainer.graphs.trainable) {
      const g = r.grads[spec.name]!;
      let sq = 0;
      for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
      total += sq;
      norms.push([spec.name, Math.sqrt(sq)]);
    }
    const gradNorm = Math.sqrt(total);
    io.out(`loss ${r.loss.toFixed(6)}\ntarget tokens ${r.targetTokens}\ngrad norm ${gradNorm.toExponential(4)}\n\n`);
    io.out('Highest per-token loss (row, position, token, nll):\n');
    for (const o of topOffenders(r.tokenNll, examples, trainer.shape.seqLen, 10)) {
      io.out(`  ${o.row}  ${String(o.position).padStart(4)}  ${JSON.stringify(tok.tokenText(o.id))} (${o.id})  ${o.nll.toFixed(4)}\n`);
    }
    io.out('\nGradient norm per trainable tensor:\n');
    for (const [name, n] of norms) io.out(`  ${n.toExponential(4)}  ${name}\n`);
    const json = str(v, 'json');
    if (json) writeFile(resolve(io.cwd, json), sortedJson({ loss: r.loss, target_tokens: r.targetTokens, grad_norm: gradNorm }));
    const gradsPath = str(v, 'grads');
    if (gradsPath) {
      const tensors = trainer.graphs.trainable.map((spec) => ({ name: spec.name, dtype: 'F32' as const, shape: [...spec.shape], data: r.grads[spec.name]! }));
      writeFile(resolve(io.cwd, gradsPath), writeSafetensors(tensors));
    }
    return 0;
  } finally {
    await trainer.release();
    await backend.release();
  }
}
