// Hub datasets by id + revision, through the same endpoint setting as models (src/hub): the revision is pinned to
// a commit sha, the split's data files are chosen from the listing (Parquet first, as the Hub's dataset viewer
// converts to Parquet; then JSONL/JSON/CSV), fetched, verified and read as one dataset.
import { fetchResolvedFile, parseRepoRef, resolveRevision, type HubConfig, type RepoFile } from '../hub/index.ts';
import { loadDatasetFiles, type Dataset, type LoadOptions } from './dataset.ts';

export interface HubDatasetOptions extends LoadOptions {
  /** Split name matched against file paths (`data/train-00000-of-00001.parquet`, `train.jsonl`). Default `train`. */
  split?: string;
  signal?: AbortSignal;
  onProgress?: (file: string, loaded: number, total: number | undefined) => void;
}

export interface HubDataset extends Dataset {
  repo: string;
  /** The commit sha the revision resolved to: store it in the run config to reproduce the data. */
  sha: string;
  files: string[];
}

const KNOWN_SPLITS = ['train', 'test', 'validation', 'valid', 'dev', 'eval'];
const DATA_EXTENSIONS = ['.parquet', '.jsonl', '.json', '.csv'] as const;

function isDataFile(path: string): boolean {
  const name = path.split('/').pop() ?? '';
  return !name.startsWith('.') && DATA_EXTENSIONS.some((ext) => path.endsWith(ext)) && name !== 'dataset_infos.json' && name !== 'dataset_info.json';
}

/** Files of the split in the preferred format, in path order (shards concatenate in order). */
export function pickSplitFiles(files: readonly RepoFile[], split: string): RepoFile[] {
  const data = files.filter((f) => isDataFile(f.path));
  const inSplit = (f: RepoFile) => f.path.split('/').some((part) => part === split || part.startsWith(`${split}-`) || part.startsWith(`${split}.`));
  // A repo with one unnamed file (`data.jsonl`) is all train; a repo with named splits lacks this one.
  const namesSplits = data.some((f) => KNOWN_SPLITS.some((name) => f.path.split('/').some((part) => part === name || part.startsWith(`${name}-`) || part.startsWith(`${name}.`))));
  const candidates = data.some(inSplit) ? data.filter(inSplit) : namesSplits ? [] : data;
  for (const ext of DATA_EXTENSIONS) {
    const chosen = candidates.filter((f) => f.path.endsWith(ext));
    if (chosen.length) return [...chosen].sort((a, b) => a.path.localeCompare(b.path));
  }
  return [];
}

/** `org/name[@revision]` → the dataset, pinned to the commit it resolved to. */
export async function loadHubDataset(cfg: HubConfig, ref: string, opts: HubDatasetOptions = {}): Promise<HubDataset> {
  const { repo, revision } = parseRepoRef(ref);
  const split = opts.split ?? 'train';
  const resolved = await resolveRevision(cfg, repo, revision, { repoType: 'dataset', signal: opts.signal });
  const chosen = pickSplitFiles(resolved.files, split);
  if (chosen.length === 0) {
    const listing = resolved.files.map((f) => f.path).join(', ') || 'no files';
    throw new Error(`Dataset ${repo}@${revision} has no Parquet, JSONL, JSON or CSV files for split "${split}" (it has: ${listing}). Pick another split or upload the file.`);
  }
  const files = [];
  for (const file of chosen) {
    const bytes = await fetchResolvedFile(cfg, resolved, file.path, {
      repoType: 'dataset',
      signal: opts.signal,
      onProgress: opts.onProgress ? (loaded, total) => opts.onProgress?.(file.path, loaded, total) : undefined,
    });
    files.push({ path: file.path, bytes });
  }
  const dataset = await loadDatasetFiles(`${repo}@${resolved.sha.slice(0, 7)}`, files, opts);
  return { ...dataset, repo, sha: resolved.sha, files: chosen.map((f) => f.path) };
}
