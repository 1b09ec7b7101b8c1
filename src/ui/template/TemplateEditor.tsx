// The chat-template picker and editor: the model's own template or a preset (ChatML, Llama 3, Gemma, Alpaca, plain
// prompt/completion), its Jinja source in an editable box, and the differences from the model's own template. An
// edit is checked in the worker (parse, then the first rows rendered in the budgeted interpreter) before it becomes the
// run's template, so the examples re-render and re-mask live; a broken edit shows where (line:column) and the examples
// keep the last template that worked.
import { useEffect, useState, type ChangeEvent } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import { isTraining } from '../../store/run';
import { PRESET_SOURCES, TEMPLATE_KINDS, TEMPLATE_TITLES, type TemplateKind } from '../../share/templates';
import type { RunConfig } from '../../share/run-config';
import type { TemplateCheck } from '../../worker/protocol';
import { lineDiff } from './line-diff';

/** Typing settles this long before the edit is checked and applied. */
const EDIT_DEBOUNCE_MS = 300;

type Failure = Extract<TemplateCheck, { ok: false }>;

function sourceOf(t: RunConfig['template'], own: string | null): string {
  if (t.kind === 'chat') return own ?? '';
  if (t.kind === 'custom') return t.source ?? '';
  return PRESET_SOURCES[t.kind];
}

function ErrorAt({ failure, source }: { failure: Failure; source: string }) {
  const line = failure.line !== null ? source.split('\n')[failure.line - 1] : undefined;
  return (
    <div className="error-note template-error" role="alert" data-testid="template-error">
      <p className="small">
        {failure.line !== null && <strong data-testid="template-error-at">Line {failure.line}, column {failure.column}: </strong>}
        {failure.message}
      </p>
      {line !== undefined && failure.column !== null && (
        <pre className="template-excerpt" aria-hidden="true">{line}{'\n'}{' '.repeat(Math.max(0, failure.column - 1))}^</pre>
      )}
      <p className="small">The examples below still use the last template that worked.</p>
    </div>
  );
}

function Diff({ own, source }: { own: string; source: string }) {
  const script = lineDiff(own, source);
  if (script === null) return <p className="small muted">The templates are too long to compare line by line.</p>;
  const changed = script.filter((l) => l.kind !== 'same').length;
  return (
    <details className="template-diff" data-testid="template-diff">
      <summary>Differences from the model&apos;s own template ({changed === 0 ? 'none' : `${changed} line${changed === 1 ? '' : 's'}`})</summary>
      <pre>
        {script.map((l, i) => (
          <span key={i} className={`diff-${l.kind}`}>{l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}{l.text}{'\n'}</span>
        ))}
      </pre>
    </details>
  );
}

export function TemplateEditor() {
  const api = useStoreApi();
  const { run } = useActions();
  const config = useApp((s) => s.runConfig);
  const model = useApp((s) => s.model);
  const phase = useApp((s) => s.phase);
  const locked = isTraining(phase) || phase === 'paused';
  const own = model?.tokenizer.chatTemplate ?? null;
  const template = config.template;
  const applied = sourceOf(template, own);
  // What the box shows while it differs from the applied template (an edit being typed, checked, or refused).
  const [draft, setDraft] = useState<string | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const text = draft ?? applied;

  // The run's template changed from elsewhere (a share link, a loaded checkpoint's run): the box shows it, not an old
  // edit. An edit this editor applied leaves the two equal, so typing is never thrown away.
  useEffect(() => {
    setDraft((d) => (d !== null && !(template.kind === 'custom' && template.source === d) ? null : d));
    setFailure((f) => (template.kind === 'custom' ? f : null));
  }, [template]);

  useEffect(() => {
    if (draft === null || draft === applied) return undefined;
    let live = true;
    const timer = setTimeout(() => {
      void run.checkTemplate(draft).then((r) => {
        if (!live) return;
        if (!r.ok) {
          setFailure(r);
          return;
        }
        setFailure(null);
        const now = api.getState().runConfig;
        api.getState().setRunConfig({ ...now, template: { kind: 'custom', source: draft, kwargs: now.template.kwargs } });
      });
    }, EDIT_DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, run, draft, applied]);

  const pick = (ev: ChangeEvent<HTMLSelectElement>) => {
    const kind = ev.target.value as TemplateKind;
    setDraft(null);
    setFailure(null);
    const now = api.getState().runConfig;
    api.getState().setRunConfig({ ...now, template: kind === 'custom' ? now.template : { kind, kwargs: now.template.kwargs } });
  };
  const kinds = TEMPLATE_KINDS.filter((k) => k !== 'custom' || template.kind === 'custom');
  return (
    <details className="template-editor" data-testid="template-editor" open>
      <summary>Chat template: {TEMPLATE_TITLES[template.kind]}</summary>
      <label>
        Template
        <select value={template.kind} onChange={pick} disabled={locked} data-testid="template-kind">
          {kinds.map((k) => <option key={k} value={k}>{TEMPLATE_TITLES[k]}</option>)}
        </select>
      </label>
      {template.kind === 'chat' && own === null && (
        <p className="warn small">This tokenizer has no chat template. Plain prompt/completion rows need none; for conversations pick a preset above.</p>
      )}
      <label>
        Jinja source (edit it: the examples re-render and re-mask as you type)
        <textarea
          className="template-source" data-testid="template-source" value={text} spellCheck={false} wrap="off" rows={10}
          disabled={locked || (template.kind === 'chat' && own === null && draft === null)}
          onChange={(e) => setDraft(e.target.value)}
          aria-invalid={failure !== null}
        />
      </label>
      {failure && <ErrorAt failure={failure} source={text} />}
      {own !== null && template.kind !== 'chat' && <Diff own={own} source={text} />}
    </details>
  );
}
