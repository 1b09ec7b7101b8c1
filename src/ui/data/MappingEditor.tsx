// The detected file format, row layout and field mapping (which source field became the messages, prompt,
// completion, ...), and a form to map the fields by hand when detection picked wrong. Applying it asks the worker to
// map the same file again (it keeps the bytes), so uploads need not be picked twice.
import { useState, type FormEvent } from 'react';
import { useActions, useApp, useStoreApi } from '../app-context';
import type { DatasetMapping, DatasetPreview } from '../../worker/protocol';

type Kind = DatasetMapping['kind'];
type Part = keyof DatasetMapping['fields'];

/** The parts each layout reads from the source, in the order a row shows them; `input` may be left unmapped. */
const LAYOUT_PARTS: Record<Kind, Part[]> = {
  messages: ['messages'],
  'prompt-completion': ['prompt', 'completion'],
  'prompt-completion-chat': ['prompt', 'completion'],
  instruction: ['instruction', 'input', 'output'],
  text: ['text'],
};
const OPTIONAL: ReadonlySet<Part> = new Set(['input']);
const KINDS = Object.keys(LAYOUT_PARTS) as Kind[];
const TAKES_MESSAGES: ReadonlySet<Kind> = new Set(['messages', 'prompt-completion-chat']);

function describe(mapping: DatasetMapping): string {
  return LAYOUT_PARTS[mapping.kind]
    .filter((p) => mapping.fields[p])
    .map((p) => `${p} ← ${mapping.fields[p] ?? ''}`)
    .join(', ');
}

function Editor({ dataset, onDone }: { dataset: DatasetPreview; onDone: () => void }) {
  const api = useStoreApi();
  const { reloadDataset } = useActions();
  const columns = dataset.columns ?? [];
  const start = dataset.mapping ?? { kind: 'text' as Kind, fields: {} };
  const [kind, setKind] = useState<Kind>(start.kind);
  const [fields, setFields] = useState<DatasetMapping['fields']>(start.fields);
  const [role, setRole] = useState(start.messageKeys?.role ?? 'role');
  const [content, setContent] = useState(start.messageKeys?.content ?? 'content');
  const parts = LAYOUT_PARTS[kind];
  const complete = parts.every((p) => OPTIONAL.has(p) || fields[p]);
  const apply = (ev: FormEvent) => {
    ev.preventDefault();
    const chosen: DatasetMapping['fields'] = {};
    for (const p of parts) if (fields[p]) chosen[p] = fields[p];
    const keys = TAKES_MESSAGES.has(kind) && (role !== 'role' || content !== 'content') ? { messageKeys: { role, content } } : {};
    api.getState().setDatasetMapping({ kind, fields: chosen, ...keys });
    onDone();
    void reloadDataset();
  };
  return (
    <form className="mapping-form" onSubmit={apply} aria-label="Field mapping">
      <label>Layout
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)} aria-label="Layout">
          {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
      </label>
      {parts.map((p) => (
        <label key={p}>{p}{OPTIONAL.has(p) ? ' (optional)' : ''}
          <select value={fields[p] ?? ''} onChange={(e) => setFields({ ...fields, [p]: e.target.value || undefined })} aria-label={`Field for ${p}`}>
            <option value="">{OPTIONAL.has(p) ? '(none)' : 'choose a field…'}</option>
            {columns.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </label>
      ))}
      {TAKES_MESSAGES.has(kind) && (
        <div className="row">
          <label className="grow">Message role key<input value={role} onChange={(e) => setRole(e.target.value)} spellCheck={false} /></label>
          <label className="grow">Message content key<input value={content} onChange={(e) => setContent(e.target.value)} spellCheck={false} /></label>
        </div>
      )}
      <div className="row">
        <button type="submit" disabled={!complete}>Apply mapping</button>
        <button type="button" className="secondary" onClick={onDone}>Cancel</button>
      </div>
    </form>
  );
}

export function MappingEditor() {
  const api = useStoreApi();
  const { reloadDataset } = useActions();
  const dataset = useApp((s) => s.dataset);
  const [opened, setOpen] = useState(false);
  if (!dataset) return null;
  // A file whose layout is not recognised needs a mapping to be used at all: the editor is open from the start.
  const open = opened || dataset.layout === null;
  const useDetected = () => {
    api.getState().setDatasetMapping(null);
    void reloadDataset();
  };
  return (
    <div className="mapping" data-testid="dataset-mapping">
      <p className="small">
        <span className="muted">Fields: </span>
        {dataset.mapping ? <code>{describe(dataset.mapping)}</code> : <span className="warn">no known layout</span>}
        <span className="muted"> ({dataset.mappingChosen ? 'mapped by hand' : 'detected'}{dataset.columns?.length ? `; the file has ${dataset.columns.join(', ')}` : ''})</span>
      </p>
      <div className="row">
        {!open && <button type="button" className="secondary" onClick={() => setOpen(true)}>Map fields…</button>}
        {dataset.mappingChosen && !open && <button type="button" className="secondary" onClick={useDetected}>Use detected mapping</button>}
      </div>
      {open && <Editor dataset={dataset} onDone={() => setOpen(false)} />}
    </div>
  );
}
