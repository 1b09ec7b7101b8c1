// The Model panel's state beyond the summary (h2): the weights download, a separate tokenizer and its check against
// the model, and the Cache API listing; plus the pure memory-fit verdict against the adapter limits from the
// capability probe. Plain data only.
import type { StateCreator } from 'zustand/vanilla';
import type { CachedRepo, Capability, MemoryEstimate, MemoryShape, TokenizerCheck } from '../worker/protocol';
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

/** The run shape the memory bill is for: batch × max length (the longest a batch can be) and the LoRA setting. */
export function selectMemoryShape(s: AppState): MemoryShape {
  return { batch: s.runConfig.train.batchSize, seqLen: s.runConfig.maxLength, lora: { r: s.runConfig.lora.r, targets: [...s.runConfig.lora.targets] } };
}

export function sameShape(a: MemoryShape, b: MemoryShape): boolean {
  return a.batch === b.batch && a.seqLen === b.seqLen && a.lora.r === b.lora.r && a.lora.targets.join(',') === b.lora.targets.join(',');
}

/** wasm32 onnxruntime-web: the heap ends at 4 GiB (shared/notes/ort-webgpu.md, size limits). */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

export interface MemoryFit {
  /** `fits`: within every limit the browser reports; `refused`: past one (see `problems`); `unknown`: no probe yet. */
  verdict: 'fits' | 'refused' | 'unknown';
  problems: string[];
  /** What the browser does not tell (the GPU's total memory), said once so nobody reads `fits` as a promise. */
  note: string | null;
}

function mib(n: number): string {
  return `${(n / 1024 ** 2).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`;
}

/**
 * The bill against the limits of the backend training will use: one WebGPU buffer must hold the largest tensor
 * (maxBufferSize and maxStorageBufferBindingSize); on WASM everything must fit the 4 GiB heap. WebGPU reports no
 * total memory size, so the total is only compared where a limit exists.
 */
export function memoryFit(memory: MemoryEstimate, capability: Capability | null): MemoryFit {
  if (!capability) return { verdict: 'unknown', problems: [], note: 'The device has not been probed yet.' };
  const problems: string[] = [];
  const { batch, seqLen } = memory.shape;
  const fix = `Lower the batch size (${batch}) or the max length (${seqLen}), or pick a smaller model.`;
  if (capability.backend === 'webgpu' && capability.webgpu.available) {
    const limits = capability.webgpu.adapter.limits;
    for (const key of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const) {
      const limit = limits[key];
      if (limit !== undefined && memory.largestTensorBytes > limit) {
        problems.push(`The largest tensor needs ${mib(memory.largestTensorBytes)}, but this GPU allows at most ${mib(limit)} in one buffer (${key}). ${fix}`);
      }
    }
    const note = 'WebGPU does not report how much memory the GPU has: the total must fit in it.';
    return { verdict: problems.length ? 'refused' : 'fits', problems, note };
  }
  if (memory.totalBytes > WASM_HEAP_BYTES) {
    problems.push(`Training on the CPU (WebAssembly) needs ${mib(memory.totalBytes)}, past the 4 GiB WebAssembly memory limit. ${fix}`);
  }
  return { verdict: problems.length ? 'refused' : 'fits', problems, note: null };
}
