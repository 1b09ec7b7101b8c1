// Page-wide notices: the WASM-fallback banner when WebGPU is missing, and errors from the worker, each dismissible.
import { useApp, useStoreApi } from './app-context';
import { selectFallbackBanner } from '../store/selectors';

export function Notices() {
  const api = useStoreApi();
  const banner = useApp(selectFallbackBanner);
  const errors = useApp((s) => s.errors);
  if (!banner && errors.length === 0) return null;
  return (
    <div className="notices">
      {banner && <div className="banner warn" role="status" data-testid="fallback-banner">{banner}</div>}
      {errors.map((e) => (
        <div key={e.id} className="banner error" role="alert">
          <span><strong>{e.source}:</strong> {e.message}</span>
          <button type="button" className="link" onClick={() => api.getState().dismissError(e.id)} aria-label="Dismiss">×</button>
        </div>
      ))}
    </div>
  );
}
