// Samples panel: the fixed prompts' generations side by side over time — one row per prompt, one column per
// adapter step (step 0 is before training) — with the degeneration detector's flags (empty output, a token repeated
// in a row, a looping phrase) on the samples that look broken.
import { useState } from 'react';
import { useApp } from '../app-context';
import { Empty, Panel } from '../Panel';
import { FLAG_TEXT, type DegenerationFlag } from '../../share/degeneration';
import type { Sample } from '../../store/slices';
import { visible } from '../tokens';

/** A prompt as a person reads it: without the tokenizer's BOS/EOS/pad strings and the chat markers spelled as special
 * tokens (`<|im_start|>`, `<start_of_turn>`), which the token views show instead; a turn end becomes a line break. */
export function readablePrompt(prompt: string, specials: readonly (string | null | undefined)[]): string {
  let text = prompt;
  for (const token of specials) if (token) text = text.split(token).join('\n');
  return text
    .replace(/<\|(im_end|eot_id|eom_id|end|endoftext)\|>|<end_of_turn>/g, '\n')
    .replace(/<\|[^|<>\s]{1,40}\|>|<start_of_turn>/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export function SamplesPanel() {
  const samples = useApp((s) => s.samples);
  const tokenizer = useApp((s) => s.model)?.tokenizer;
  const [raw, setRaw] = useState(false);
  // Every step keeps its column (the table scrolls sideways), across pauses, resumes and restores.
  const shown = [...new Set(samples.map((s) => s.step))].sort((a, b) => a - b);
  const specials = [tokenizer?.bosToken, tokenizer?.eosToken, tokenizer?.padToken];
  const prompts = [...new Set(samples.map((s) => s.promptIndex))].sort((a, b) => a - b);
  const at = new Map<string, Sample>(samples.map((s) => [`${s.promptIndex}:${s.step}`, s]));
  const flagged = samples.filter((s) => s.flags.length > 0).length;
  return (
    <Panel id="samples" step={7} title="Samples" wide aside={
      samples.length > 0 && (
        <span className="row">
          <label className="small"><input type="checkbox" checked={raw} onChange={(e) => setRaw(e.target.checked)} data-testid="samples-raw" /> special tokens</label>
          <span className={flagged ? 'badge wasm' : 'badge'} data-testid="samples-flagged">{flagged} of {samples.length} flagged</span>
        </span>
      )
    }>
      {samples.length === 0 ? (
        <Empty>Fixed prompts from the eval split are answered before training and every N steps, so you can watch the answers change.</Empty>
      ) : (
        <div className="samples-scroll" tabIndex={0} aria-label="Samples by prompt and step">
          <table className="samples-table" data-testid="samples">
            <thead>
              <tr>
                <th scope="col">prompt</th>
                {shown.map((step) => <th key={step} scope="col">step {step}</th>)}
              </tr>
            </thead>
            <tbody>
              {prompts.map((p) => {
                const prompt = samples.find((s) => s.promptIndex === p)?.prompt ?? '';
                return (
                  <tr key={p}>
                    <th scope="row" className="prompt" title={prompt}><div tabIndex={0} data-testid="sample-prompt">{visible(raw ? prompt.trim() : readablePrompt(prompt, specials))}</div></th>
                    {shown.map((step) => {
                      const s = at.get(`${p}:${step}`);
                      return (
                        <td key={step} className={s && s.flags.length > 0 ? 'sample bad' : 'sample'} data-step={step}>
                          {s && <p className="completion">{visible(s.completion) || <span className="muted">(empty)</span>}</p>}
                          {s?.flags.map((f) => <span key={f} className="chip flag" title={FLAG_TEXT[f as DegenerationFlag]}>⚠ {f}</span>)}
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}
