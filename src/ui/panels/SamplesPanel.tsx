// Samples panel: the fixed prompts' generations side by side over time — one row per prompt, one column per
// adapter step (step 0 is before training) — with the degeneration detector's flags (empty output, a token repeated
// in a row, a looping phrase) on the samples that look broken.
import { useApp } from '../app-context';
import { Empty, Panel } from '../Panel';
import { FLAG_TEXT, type DegenerationFlag } from '../../store/degeneration';
import type { Sample } from '../../store/slices';
import { visible } from '../tokens';

/** Columns kept on screen: the first (before training) and the most recent ones. */
const MAX_COLUMNS = 6;


export function SamplesPanel() {
  const samples = useApp((s) => s.samples);
  const steps = [...new Set(samples.map((s) => s.step))].sort((a, b) => a - b);
  const shown = steps.length > MAX_COLUMNS ? [steps[0]!, ...steps.slice(-(MAX_COLUMNS - 1))] : steps;
  const prompts = [...new Set(samples.map((s) => s.promptIndex))].sort((a, b) => a - b);
  const at = new Map<string, Sample>(samples.map((s) => [`${s.promptIndex}:${s.step}`, s]));
  const flagged = samples.filter((s) => s.flags.length > 0).length;
  return (
    <Panel id="samples" step={7} title="Samples" wide aside={
      samples.length > 0 && <span className={flagged ? 'badge wasm' : 'badge'} data-testid="samples-flagged">{flagged} of {samples.length} flagged</span>
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
                    <th scope="row" className="prompt" title={prompt}><div tabIndex={0}>{visible(prompt.trim())}</div></th>
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
