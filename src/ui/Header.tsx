// Top bar: product name, what it does in one line, the backend badge and the light/dark/system theme toggle.
import { useEffect } from 'react';
import { useApp, useStoreApi } from './app-context';
import type { ThemeChoice } from '../store/slices';
import type { AdapterSummary } from '../worker/protocol';

function adapterName(a: AdapterSummary): string {
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' · ');
}

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
const LABEL: Record<ThemeChoice, string> = { system: '◐ System', light: '☀ Light', dark: '☾ Dark' };

export function Header() {
  const api = useStoreApi();
  const theme = useApp((s) => s.theme);
  const cap = useApp((s) => s.capability);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const adapter = cap?.webgpu.available ? cap.webgpu.adapter : null;
  return (
    <header className="topbar">
      <div className="brand">
        <h1>TabTune</h1>
        <span className="tagline">Fine-tune a language model in this tab, and see every token it learns from.</span>
      </div>
      <div className="row">
        {cap && (
          <span className={`badge ${cap.backend}`} title={adapter ? adapterName(adapter) : 'WebAssembly fallback'}>
            {adapter ? `WebGPU · ${adapter.architecture || adapter.description || adapter.vendor || 'adapter'}` : 'WASM (CPU)'}
          </span>
        )}
        <button
          type="button"
          className="secondary theme-toggle"
          onClick={() => api.getState().setTheme(NEXT[theme])}
          aria-label={`Theme: ${theme}. Switch to ${NEXT[theme]}.`}
        >
          {LABEL[theme]}
        </button>
      </div>
    </header>
  );
}
