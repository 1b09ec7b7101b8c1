// The repository field with Hub search as you type: a combobox (ARIA 1.2 pattern) over the endpoint's model search,
// debounced, most downloaded first, each option with its id, downloads and size. Arrows move, Enter picks, Escape
// closes; the field stays a plain text input, so any org/name can still be typed.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useActions } from '../app-context';
import { formatBytes, formatCount } from '../format';
import type { HubModelHit } from '../../worker/protocol';

/** Typing settles this long before a search goes out. */
const SEARCH_DEBOUNCE_MS = 250;

export function RepoCombobox(props: {
  endpoint: string;
  /** The endpoint has the Hub's search API (the bundled demo's static files do not): no search otherwise. */
  searchable: boolean;
  value: string;
  onChange(value: string): void;
  /** An option was chosen. */
  onPick(repo: string): void;
  /** The field was left holding a repo id (typed by hand). */
  onCommit(repo: string): void;
}) {
  const { model: actions } = useActions();
  const id = useId();
  const [hits, setHits] = useState<HubModelHit[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActiveState] = useState(-1);
  // Mirrors of `hits` and `active` for the search callback, which must not restart on every arrow key.
  const shown = useRef<HubModelHit[]>([]);
  const activeRef = useRef(-1);
  const setActive = (next: number | ((a: number) => number)) => {
    setActiveState((a) => {
      const value = typeof next === 'function' ? next(a) : next;
      activeRef.current = value;
      return value;
    });
  };
  const [typed, setTyped] = useState(false);
  const asked = useRef(0);
  const input = useRef<HTMLInputElement>(null);
  const { endpoint, value, searchable } = props;

  useEffect(() => {
    if (!typed || !searchable || value.trim().length < 2) return undefined;
    const timer = setTimeout(() => {
      const n = ++asked.current;
      void actions.search(endpoint, value).then((r) => {
        if (n !== asked.current) return; // a newer query is on its way
        // The option under the keyboard stays active when the newer answer still lists it.
        const activeId = shown.current[activeRef.current]?.id;
        const keep = r.hits.findIndex((h) => h.id === activeId);
        shown.current = r.hits;
        setHits(r.hits);
        setError(r.error);
        activeRef.current = keep;
        setActiveState(keep);
        // An answer that arrives after the field was left (Load pressed) does not pop the list open over the form.
        setOpen(document.activeElement === input.current);
      });
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [actions, endpoint, value, typed, searchable]);

  const pick = (hit: HubModelHit) => {
    asked.current++;
    setTyped(false);
    setOpen(false);
    setActive(-1);
    props.onChange(hit.id);
    props.onPick(hit.id);
  };
  const onKey = (ev: KeyboardEvent<HTMLInputElement>) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (hits.length === 0) return;
      ev.preventDefault();
      setOpen(true);
      const step = ev.key === 'ArrowDown' ? 1 : -1;
      setActive((a) => (a + step + hits.length) % hits.length);
    } else if (ev.key === 'Enter' && open && active >= 0) {
      ev.preventDefault(); // picks the option instead of submitting the form
      const hit = hits[active];
      if (hit) pick(hit);
    } else if (ev.key === 'Escape' && open) {
      ev.preventDefault();
      setOpen(false);
      setActive(-1);
    }
  };
  const listId = `${id}-list`;
  const expanded = open && searchable && (hits.length > 0 || error !== null || value.trim().length >= 2);
  return (
    <div className="combobox">
      <label>Repository
        <input
          ref={input} role="combobox" aria-autocomplete="list" aria-expanded={expanded} aria-controls={listId}
          aria-activedescendant={expanded && active >= 0 ? `${id}-opt-${active}` : undefined}
          value={value} spellCheck={false} placeholder="org/name — type to search" autoComplete="off"
          onChange={(e) => { setTyped(true); props.onChange(e.target.value); }}
          onKeyDown={onKey}
          onBlur={() => {
            setOpen(false);
            if (/^[\w.-]+\/[\w.-]+$/.test(value.trim())) props.onCommit(value.trim());
          }}
        />
      </label>
      <ul id={listId} role="listbox" aria-label="Matching models" className="listbox" hidden={!expanded}>
        {hits.map((hit, i) => (
          <li
            key={hit.id} id={`${id}-opt-${i}`} role="option" aria-selected={i === active} className={i === active ? 'active' : undefined}
            onMouseDown={(e) => e.preventDefault()} onClick={() => pick(hit)}
          >
            <code>{hit.id}</code>
            <span className="muted small">
              {hit.downloads !== null && <>{formatCount(hit.downloads)} downloads</>}
              {hit.sizeBytes !== null && <> · {formatBytes(hit.sizeBytes)}</>}
            </span>
          </li>
        ))}
        {expanded && hits.length === 0 && (
          <li role="option" aria-disabled="true" aria-selected={false} className="muted small">{error ?? `No model matches "${value.trim()}".`}</li>
        )}
      </ul>
    </div>
  );
}
