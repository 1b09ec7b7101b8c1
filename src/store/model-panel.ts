// The Model panel's state beyond the summary: the weights download, a separate tokenizer and its check against
// the model, and the Cache API listing; plus the pure memory-fit verdict against the adapter limits from the
// capability probe. Plain data only.
import type { StateCreator } from 'zustand/vanilla';
import type { BackendChoice, CachedRepo, Capability, MemoryEstimate, MemoryShape, TokenizerCheck } from '../worker/protocol';
import type { AppState, LoadState } from './types';

/** A tokenizer from another repo, as the user named it; null = the model's own. Kept in the run config
 * (`runConfig.tokenizer`, pinned to a sha once checked) so run.prepare uses it and a reload keeps it. */
export interface TokenizerChoice {
  repo: string;
  revision: string;
}

export function selectTokenizerChoice(s: AppState): TokenizerChoice | null {
  const t = s.runConfig.tokenizer;
  return t ? { repo: t.repo, revision: t.revision } : null;
}

export interface ModelPanelSlice {
  downloadState: LoadState;
  /** Bytes in the cache for the shown model after a download (null before one). */
  downloaded: { repo: string; sha: string; bytes: number } | null;
  tokenizerCheck: TokenizerCheck | null;
  tokenizerCheckState: LoadState;
  cachedRepos: CachedRepo[];
  cacheState: LoadState;
  memoryState: LoadState;
  setDownload(state: LoadState, downloaded?: ModelPanelSlice['downloaded']): void;
  /** Sets (or with null, clears) `runConfig.tokenizer`; `sha` pins it to the commit the check resolved. */
  setTokenizerChoice(choice: TokenizerChoice | null, sha?: string): void;
  setTokenizerCheck(check: TokenizerCheck | null, state: LoadState): void;
  setCachedRepos(repos: CachedRepo[], state: LoadState): void;
  setMemoryState(state: LoadState): void;
}

export const createModelPanelSlice: StateCreator<AppState, [], [], ModelPanelSlice> = (set) => ({
  downloadState: { status: 'idle' },
  downloaded: null,
  tokenizerCheck: null,
  tokenizerCheckState: { status: 'idle' },
  cachedRepos: [],
  cacheState: { status: 'idle' },
  memoryState: { status: 'idle' },
  setDownload: (downloadState, downloaded) => set(downloaded === undefined ? { downloadState } : { downloadState, downloaded }),
  setTokenizerChoice: (choice, sha) =>
    set((s) => {
      const { tokenizer: _previous, ...rest } = s.runConfig;
      const runConfig = choice ? { ...rest, tokenizer: { repo: choice.repo, revision: choice.revision, ...(sha ? { sha } : {}) } } : rest;
      // A pin of the same choice keeps its check; another choice starts over.
      const same = choice !== null && _previous?.repo === choice.repo && _previous.revision === choice.revision;
      return same && sha ? { runConfig } : { runConfig, tokenizerCheck: null, tokenizerCheckState: { status: 'idle' } };
    }),
  setTokenizerCheck: (tokenizerCheck, tokenizerCheckState) => set({ tokenizerCheck, tokenizerCheckState }),
  setCachedRepos: (cachedRepos, cacheState) => set({ cachedRepos, cacheState }),
  setMemoryState: (memoryState) => set({ memoryState }),
});

/** wasm32 onnxruntime-web: the heap ends at 4 GiB (docs/architecture.md, size limits). */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** The backend a run will train on for this choice: `auto` follows the probe (WASM on a software adapter), `webgpu`
 * needs an adapter; null before the probe. */
export function trainingBackend(capability: Capability | null, choice: BackendChoice = 'auto'): 'webgpu' | 'wasm' | null {
  if (!capability) return null;
  if (choice === 'wasm' || !capability.webgpu.available) return 'wasm';
  return choice === 'webgpu' ? 'webgpu' : capability.backend;
}

/** The limits of the backend training will use (for the chosen backend), from the capability probe: one WebGPU
 * buffer's size, or the WASM heap; none before the probe. */
export function memoryLimits(capability: Capability | null, choice: BackendChoice = 'auto'): NonNullable<MemoryShape['limits']> | undefined {
  if (!capability) return undefined;
  if (trainingBackend(capability, choice) === 'webgpu' && capability.webgpu.available) {
    const { maxBufferSize, maxStorageBufferBindingSize } = capability.webgpu.adapter.limits;
    return { ...(maxBufferSize !== undefined ? { maxBufferSize } : {}), ...(maxStorageBufferBindingSize !== undefined ? { maxStorageBufferBindingSize } : {}) };
  }
  return { budgetBytes: WASM_HEAP_BYTES };
}

/** The run shape the memory bill is for: batch × max length (the longest a batch can be), the LoRA setting, and the
 * limits of this device. */
export function selectMemoryShape(s: AppState): MemoryShape {
  const limits = memoryLimits(s.capability, s.backendChoice);
  return {
    batch: s.runConfig.train.batchSize, seqLen: s.runConfig.maxLength, lora: { r: s.runConfig.lora.r, targets: [...s.runConfig.lora.targets] },
    ...(limits ? { limits } : {}),
  };
}

export function sameShape(a: MemoryShape, b: MemoryShape): boolean {
  return a.batch === b.batch && a.seqLen === b.seqLen && a.lora.r === b.lora.r && a.lora.targets.join(',') === b.lora.targets.join(',') &&
    JSON.stringify(a.limits ?? null) === JSON.stringify(b.limits ?? null);
}

export interface MemoryFit {
  /** `fits`: within every limit the browser reports; `refused`: past one (see `problems`); `unknown`: no probe yet. */
  verdict: 'fits' | 'refused' | 'unknown';
  problems: string[];
  /** What the browser does not tell (the GPU's total memory), said once so nobody reads `fits` as a promise. */
  note: string | null;
}

/**
 * The verdict on a bill the worker checked against `shape.limits` (src/train planMemory): one WebGPU buffer must hold
 * the largest tensor; on WASM everything must fit the 4 GiB heap. WebGPU reports no total memory size, so there the
 * total is not checked, and the note says so.
 */
export function memoryFit(memory: MemoryEstimate, capability: Capability | null, choice: BackendChoice = 'auto'): MemoryFit {
  if (!capability || !memory.shape.limits) return { verdict: 'unknown', problems: [], note: 'The device has not been probed yet.' };
  const verdict = memory.problems.length > 0 ? 'refused' : 'fits';
  const note = trainingBackend(capability, choice) === 'webgpu' ? 'WebGPU does not report how much memory the GPU has: the total must fit in it.' : null;
  return { verdict, problems: memory.problems, note };
}
