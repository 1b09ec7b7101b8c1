// "Your own prompt": type a prompt and see the base model's and the current adapter's answers side by side — greedy,
// same token budget, same stop tokens — at any time: before a run (base only), while it trains (answered between two
// steps) and after it.
import { useState } from 'react';
import { useActions, useApp } from '../app-context';
import { ErrorNote, Panel } from '../Panel';
import { errorMessage } from '../../share/labels';
import { DEFAULT_LESSON, findLesson } from '../../share/lessons';
import type { PromptComparison } from '../../worker/protocol';
import { visible } from '../tokens';

export function OwnPromptPanel() {
  const { lessons } = useActions();
  const prepared = useApp((s) => s.prepared);
  const [prompt, setPrompt] = useState(findLesson(DEFAULT_LESSON).prompt);
  const [result, setResult] = useState<PromptComparison | null>(null);
  const [state, setState] = useState<{ status: 'idle' | 'asking' | 'error'; message?: string }>({ status: 'idle' });

  const ask = async (): Promise<void> => {
    setState({ status: 'asking' });
    try {
      setResult(await lessons.compare(prompt));
      setState({ status: 'idle' });
    } catch (err) {
      setState({ status: 'error', message: errorMessage(err) });
    }
  };

  return (
    <Panel id="own-prompt" title="Your own prompt" wide aside={<span className="small muted">base vs adapter, greedy</span>}>
      <form className="own-prompt" onSubmit={(e) => { e.preventDefault(); void ask(); }}>
        <label>
          Prompt (sent as a user turn through the chat template)
          <textarea rows={2} value={prompt} onChange={(e) => setPrompt(e.target.value)} data-testid="own-prompt-input" />
        </label>
        <div className="row">
          <button type="submit" disabled={!prepared || state.status === 'asking' || prompt.trim() === ''} data-testid="own-prompt-ask">Ask both</button>
          {state.status === 'asking' && <span className="small muted" role="status">Generating…</span>}
        </div>
      </form>
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {result?.system && <p className="small muted" data-testid="own-prompt-system" title={result.system}>After the dataset's system prompt: “{result.system.length > 90 ? `${result.system.slice(0, 90)}…` : result.system}”</p>}
      {result && (
        <div className="side-by-side" data-testid="own-prompt-result">
          <figure>
            <figcaption className="small muted">Base model</figcaption>
            <p className="completion" data-testid="own-prompt-base">{visible(result.base) || <span className="muted">(empty)</span>}</p>
          </figure>
          <figure>
            <figcaption className="small muted">{result.step !== null ? `Adapter at step ${result.step}` : 'Adapter'}</figcaption>
            <p className="completion" data-testid="own-prompt-adapter">
              {result.adapter === null ? <span className="muted">No adapter yet: run a lesson or press Start.</span> : visible(result.adapter) || <span className="muted">(empty)</span>}
            </p>
          </figure>
        </div>
      )}
    </Panel>
  );
}
