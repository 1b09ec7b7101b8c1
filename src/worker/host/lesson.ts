// "Your own prompt" (lessons): the base model's and the current adapter's greedy answers to a prompt the user typed,
// with the same token budget and stop tokens. While a run trains, the answers are computed between two of its steps.
import { paddingId } from '../../train/dataset.ts';
import { encodePrompt } from '../../train/generation.ts';
import { currentAdapter, greedyAnswers } from '../../train/lessons.ts';
import type { Message } from '../../data/types.ts';
import type { BackendChoice, PromptComparison } from '../protocol';
import type { HandlerContext } from './context';
import type { Playground } from './playground';
import type { TrainingHost } from './training';

/** Longest answer the box asks for. */
const MAX_NEW_TOKENS = 64;

export async function comparePrompt(
  pg: Playground, training: TrainingHost, req: { prompt: string; maxNewTokens: number; backend: BackendChoice }, ctx: HandlerContext,
): Promise<PromptComparison> {
  const p = pg.requirePrepared();
  const tok = p.tokenizer.tokenizer;
  if (req.prompt.trim() === '') throw new Error('Type a prompt first.');
  const chat = tok.chatTemplate !== null;
  // The data's system prompt (when its rows have one) goes first, so the adapter is asked in the context it learned in.
  const first = p.session.data.rows.find((r) => r.kind === 'messages');
  const system = first?.kind === 'messages' ? (first.messages.find((m) => m.role === 'system')?.content ?? null) : null;
  const messages: Message[] = [...(system !== null ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: req.prompt }];
  const ids = encodePrompt(tok, chat ? { messages } : { text: req.prompt });
  const opts = { maxNewTokens: Math.max(1, Math.min(MAX_NEW_TOKENS, Math.floor(req.maxNewTokens))), stopIds: p.session.stopIds(), padId: paddingId(tok) };
  const model = await pg.loadedModel(ctx, p);
  const { backend } = await pg.openedBackend(req.backend);
  return training.atBoundary(async (trainer) => {
    // Only a trainer built on the prepared model's examples has an adapter that fits it.
    const current = trainer && training.trainedOn(p) ? trainer : null;
    const [base] = await greedyAnswers(backend, model, [ids], opts, null);
    const adapter = current ? await currentAdapter(current) : null;
    const tuned = adapter ? (await greedyAnswers(backend, model, [ids], opts, adapter))[0] : null;
    return {
      prompt: req.prompt, chat, system: chat ? system : null, base: tok.decode(base ?? []),
      adapter: tuned ? tok.decode(tuned) : null, step: adapter?.step ?? null,
    };
  });
}
