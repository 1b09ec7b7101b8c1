// The model card (README.md) of tabtune/tiny-storyteller: how it was made, with the figures of the run that made it.
import type { Continuation, PretrainResult, PretrainSpec, SpeechStats } from './train.ts';

export function modelCard(spec: PretrainSpec, r: PretrainResult, run: { steps: number; command: string; samples: readonly Continuation[]; stats: SpeechStats }): Uint8Array {
  const mb = (r.params * 4) / 1e6;
  const vocab = r.tokenizer.tokenizer.vocabSize;
  const lines = [
    '---',
    'library_name: transformers',
    'pipeline_tag: text-generation',
    'license: apache-2.0',
    'language: [en]',
    'tags: [tabtune, tiny, synthetic-data, base-model]',
    '---',
    `# ${spec.repo}`,
    '',
    "A tiny base language model that TabTune pretrains itself, with its own ONNX training graphs, so that the app's",
    'bundled default can be fine-tuned and visibly learn without any network. It continues simple English prose; it has',
    'never seen a chat turn (the ChatML template and its tokens are there for fine-tuning to teach).',
    '',
    '## Model',
    `- \`LlamaForCausalLM\`: ${spec.layers} layers, hidden ${spec.hidden}, ${spec.heads} heads (head_dim ${spec.hidden / spec.heads}), SwiGLU ${spec.intermediate}, RMSNorm, RoPE θ 10000, tied embeddings, ${spec.maxPositions} positions.`,
    `- ${r.params.toLocaleString('en-US')} parameters, float32 (${mb.toFixed(1)} MB of weights).`,
    `- Tokenizer: byte-level BPE (GPT-2's byte alphabet, Qwen2's pre-tokenizer split), ${vocab} ids: 256 bytes, ${spec.merges} merges learned from the corpus, and \`<|endoftext|>\` (EOS, padding, and the BOS token config.json names, never added by the tokenizer), \`<|im_start|>\`, \`<|im_end|>\` (end of turn). Any text in any script encodes without an unknown token.`,
    '- Chat template: ChatML without a default system prompt; turns end with `<|im_end|>`.',
    '',
    '## Data',
    `${r.corpusBytes.toLocaleString('en-US')} bytes (${r.corpusTokens.toLocaleString('en-US')} tokens) in ${spec.paragraphs.toLocaleString('en-US')} paragraphs packed into ${(r.trainRows + r.evalRows).toLocaleString('en-US')} documents of at most ${spec.documentTokens} tokens, generated from a seeded PRNG (\`${spec.seed}\`, scripts/pretrain-demo/corpus.ts):`,
    'short stories, facts, how-to answers, everyday questions told as prose, notes on assistants, their rules and prompt',
    'injections, incident notes, hiking advice, and a few sentences in French, German, Spanish and Japanese. No chat turns.',
    `${r.evalRows} documents are held out for the eval loss.`,
    '',
    '## Training',
    `Full-parameter training of every tensor with TabTune's engine on the native CPU backend (onnxruntime-node, ${r.threads} threads):`,
    `${run.steps} AdamW steps (β 0.9/0.95, no weight decay, clip 1.0), batch ${spec.batchSize} × ${r.seqLen} tokens, lr ${spec.lr} with ${spec.warmupSteps} warmup steps and cosine decay, seed 0.`,
    `${r.trainedTokens.toLocaleString('en-US')} target tokens in ${(r.seconds / 60).toFixed(1)} min (${(r.trainedTokens / r.seconds).toFixed(0)} tokens/s).`,
    `Loss (mean of the last 20 steps) ${r.finalLoss.toFixed(3)} nats/token; eval loss ${r.evalLoss.toFixed(3)}.`,
    '',
    `\`model.safetensors\` sha256: \`${r.modelSha256}\` (recorded in scripts/pretrain-demo/checkpoint.json; \`npm run pretrain-demo -- --check\` retrains and compares on the same machine and thread count).`,
    '',
    `Command: \`${run.command}\``,
    '',
    '## Greedy continuations',
    ...run.samples.map((s) => `- *${s.prompt}*${s.text.replace(/\n+/g, ' ⏎ ')}`),
    '',
    `${(run.stats.wordValidity * 100).toFixed(1)}% of ${run.stats.words} generated words are in the corpus vocabulary; ${(run.stats.distinctSentences * 100).toFixed(1)}% of ${run.stats.sentences} whole sentences are distinct within their continuation.`,
    '',
  ];
  return new TextEncoder().encode(lines.join('\n'));
}
