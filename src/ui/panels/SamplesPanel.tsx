// Samples panel: generations for fixed prompts, newest first, with the adapter step they came from and any
// degeneration flags (repeated n-grams, repeated tokens, empty output).
import { useApp } from '../app-context';
import { Empty, Panel } from '../Panel';
import { selectSamples } from '../../store/selectors';

export function SamplesPanel() {
  const samples = useApp(selectSamples);
  return (
    <Panel id="samples" step={7} title="Samples">
      {samples.length === 0 ? (
        <Empty>Fixed prompts are answered before training and every N steps, so you can watch the answers change.</Empty>
      ) : (
        <ol className="samples" reversed>
          {[...samples].reverse().map((s, i) => (
            <li key={`${s.step}-${i}`}>
              <span className="muted small">step {s.step}</span>
              {s.flags.map((f) => <span key={f} className="chip off">{f}</span>)}
              <p className="prompt">{s.prompt}</p>
              <p className="completion">{s.completion}</p>
            </li>
          ))}
        </ol>
      )}
    </Panel>
  );
}
