// Template & masks panel: the mask policy / framework preset and max length, then one example at a time — its
// tokens coloured by label (special tokens visible, hover for id/label/text), what two naive collators would train
// instead with the differences marked, and the linter's warnings linking to the examples they name.
import type { ChangeEvent } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import { Empty, ErrorNote, Facts, Panel, Progress } from '../Panel';
import { IGNORE, Legend, TokenStrip, type StripToken } from '../tokens';
import { isTraining } from '../../store/run';
import { MASK_POLICIES, type MaskPolicy } from '../../share/run-config';
import type { ExampleDetail, PreparedRun } from '../../worker/protocol';
import { TemplateEditor } from '../template/TemplateEditor';
import { count } from '../../share/wording';

const MASK_TEXT: Record<MaskPolicy, string> = {
  assistant: 'every assistant turn: its content and end-of-turn token',
  'last-assistant': 'only the last assistant turn (content + end-of-turn)',
  'assistant-no-eot': 'assistant content without its end-of-turn token (the model never learns to stop)',
  completion: 'everything after the prompt (TRL completion_only_loss)',
  all: 'every token, prompt included (plain language modelling)',
  trl: 'TRL assistant_only_loss: the {% generation %} spans',
  axolotl: 'Axolotl roles_to_train [assistant], train_on_eos: turn',
  unsloth: 'Unsloth train_on_responses_only: response marker to next user marker',
};

const NAIVE_TITLE: Record<string, string> = {
  'last-assistant-token': 'Naive: train after the last "assistant" token',
  'prompt-length': 'Naive: mask len(tokenize(prompt)) tokens',
};

function MaskControls() {
  const api = useStoreApi();
  const config = useApp((s) => s.runConfig);
  const phase = useApp((s) => s.phase);
  const locked = isTraining(phase) || phase === 'paused';
  const onMask = (ev: ChangeEvent<HTMLSelectElement>) => api.getState().setRunConfig({ ...config, mask: ev.target.value as MaskPolicy });
  const onMax = (ev: ChangeEvent<HTMLInputElement>) => {
    const v = Number(ev.target.value);
    if (Number.isInteger(v) && v >= 8 && v <= 32768) api.getState().setRunConfig({ ...config, maxLength: v });
  };
  return (
    <div className="row controls">
      <label className="grow">
        Mask policy / preset
        <select value={config.mask} onChange={onMask} disabled={locked} data-testid="mask-policy">
          {MASK_POLICIES.map((m) => <option key={m} value={m}>{m} — {MASK_TEXT[m]}</option>)}
        </select>
      </label>
      <label className="narrow">
        Max length
        <input type="number" min={8} max={32768} step={8} defaultValue={config.maxLength} onChange={onMax} disabled={locked} data-testid="max-length" />
      </label>
    </div>
  );
}

function Navigator({ prepared, index }: { prepared: PreparedRun; index: number }) {
  const { run } = useActions();
  const n = prepared.examples.length;
  const summary = prepared.examples[index];
  return (
    <div className="row nav" aria-label="Example navigation">
      <button type="button" className="secondary" onClick={() => void run.showExample(index - 1)} disabled={index <= 0} aria-label="Previous example">◀</button>
      <span className="grow small" data-testid="example-position">
        Example {index + 1} of {n}{summary && <> · <code>{summary.id}</code> · {summary.split} · {count(summary.tokens, 'token')}, {summary.targets} trained{summary.truncated ? ' · truncated' : ''}</>}
      </span>
      <button type="button" className="secondary" onClick={() => void run.showExample(index + 1)} disabled={index >= n - 1} aria-label="Next example">▶</button>
    </div>
  );
}

function ExampleView({ example }: { example: ExampleDetail }) {
  const differs = example.naive.map((n) => ({ n, at: new Set(n.differs) }));
  const tokens: StripToken[] = example.tokens.map((t, i) => ({
    id: t.id, text: t.text, label: t.label, special: t.special,
    disagree: differs.filter((d) => d.at.has(i)).map((d) => ({ method: NAIVE_TITLE[d.n.method] ?? d.n.method, label: d.n.labels[i] ?? IGNORE })),
  }));
  return (
    <>
      <TokenStrip key={example.id} tokens={tokens} label="Tokens of this example, coloured by label" testId="example-tokens" />
      {example.fullLength > example.tokens.length && (
        <p className="warn small">Truncated: {example.fullLength} tokens before the max length cut the end off.</p>
      )}
      <details className="naive" data-testid="naive">
        <summary>What naive collators would train instead</summary>
        {example.naive.map((n) => {
          const differs = new Set(n.differs);
          const strip: StripToken[] = example.tokens.map((t, i) => ({
            id: t.id, text: t.text, label: n.labels[i] ?? IGNORE, special: t.special, marked: differs.has(i),
            ...(differs.has(i) ? { note: `differs from the exact mask, which ${(example.tokens[i]?.label ?? IGNORE) === IGNORE ? 'masks' : 'trains'} it` } : {}),
          }));
          return (
            <div key={n.method} className="naive-method">
              <p className="small"><strong>{NAIVE_TITLE[n.method] ?? n.method}</strong>: {n.differs.length === 0 ? 'same as the exact mask.' : `${count(n.differs.length, 'token differs', 'tokens differ')} (outlined).`} <span className="muted">{n.note}</span></p>
              <TokenStrip key={example.id} tokens={strip} label={NAIVE_TITLE[n.method] ?? n.method} />
            </div>
          );
        })}
      </details>
    </>
  );
}

function Warnings({ prepared }: { prepared: PreparedRun }) {
  const { run } = useActions();
  const indexOf = new Map(prepared.examples.map((e) => [e.id, e.index]));
  if (prepared.warnings.length === 0 && prepared.dropped.length === 0) {
    return <p className="ok small" data-testid="lint-clean">The mask linter found nothing to warn about.</p>;
  }
  return (
    <ul className="lint" data-testid="lint">
      {prepared.warnings.map((w) => (
        <li key={w.code} className="warn small">
          <code>{w.code}</code> {w.message}{' '}
          {w.exampleIds.map((id) => {
            const at = indexOf.get(id);
            return at === undefined
              ? <span key={id} className="muted">{id} (dropped) </span>
              : <button key={id} type="button" className="linklike" onClick={() => void run.showExample(at)}>{id}</button>;
          })}
        </li>
      ))}
      {prepared.dropped.length > 0 && (
        <li className="small muted">{count(prepared.dropped.length, 'row')} dropped, e.g. {prepared.dropped[0]?.message}</li>
      )}
    </ul>
  );
}

function TokenizerFacts() {
  const model = useApp((s) => s.model);
  const tok = model?.tokenizer;
  if (!tok) return null;
  return (
    <details className="template">
      <summary>Tokenizer and chat template</summary>
      <Facts rows={[
        ['tokenizer', tok.tokenizerClass ?? (tok.hasTokenizerJson ? 'tokenizer.json' : 'missing')],
        ['bos / eos / pad', <code key="s">{tok.bosToken ?? 'none'} / {tok.eosToken ?? 'none'} / {tok.padToken ?? 'none'}</code>],
      ]} />
      {tok.padToken !== null && tok.padToken === tok.eosToken && (
        <p className="warn small">pad_token equals eos_token: a collator that masks padding by id would also mask every EOS.</p>
      )}
      {tok.chatTemplate
        ? <pre data-testid="chat-template">{tok.chatTemplate}</pre>
        : <p className="warn small">No chat_template in tokenizer_config.json: chat data needs a template from the picker above (e.g. Alpaca or ChatML).</p>}
    </details>
  );
}

export function TemplatePanel() {
  const prepared = useApp((s) => s.prepared);
  const state = useApp((s) => s.preparedState);
  const example = useApp((s) => s.example);
  const exampleState = useApp((s) => s.exampleState);
  const index = useApp((s) => s.exampleIndex);
  return (
    <Panel id="template" step={3} title="Template & masks" wide>
      <MaskControls />
      <TemplateEditor />
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {!prepared && state.status === 'idle' && <Empty>Tokens appear here, coloured by what the mask trains, once a model and a dataset are loaded.</Empty>}
      {prepared && (
        <>
          <Navigator prepared={prepared} index={index} />
          <Legend kinds={['trained', 'masked']} marked="a naive method disagrees here" />
          {exampleState.status === 'error' && <ErrorNote>{exampleState.message}</ErrorNote>}
          {example && <ExampleView example={example} />}
          <Warnings prepared={prepared} />
        </>
      )}
      <TokenizerFacts />
    </Panel>
  );
}
