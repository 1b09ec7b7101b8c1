// Run export/import as a zip: the PEFT adapter folder, tokenizer files, generation_config.json used for the samples,
// trainer_state.json, the reproduction manifest, metrics.csv, samples.jsonl, and optionally TabTune's resumable
// checkpoint files. The adapter and checkpoint bytes come from src/train (which owns their formats); this module owns
// the layout, the size caps and the checks that reject a malformed zip with a message. A bare PEFT adapter folder
// made elsewhere imports too.
import { Inflate, zipSync, type Zippable } from 'fflate';
import { crc32, utf8 } from './codec.ts';
import { parseManifest, type MetricPoint, type ReproManifest, type SampleRecord } from './manifest.ts';
import { checkSafetensors, metricsCsv, parseMetricsCsv, parseSamplesJsonl, samplesJsonl } from './run-files.ts';

const ZIP_FILES = {
  manifest: 'manifest.json',
  generationConfig: 'generation_config.json',
  trainerState: 'trainer_state.json',
  metrics: 'metrics.csv',
  samples: 'samples.jsonl',
} as const;
const ADAPTER_DIR = 'adapter';
const TOKENIZER_DIR = 'tokenizer';
const CHECKPOINT_DIR = 'checkpoint';
export const ADAPTER_REQUIRED = ['adapter_config.json', 'adapter_model.safetensors'] as const;
const ADAPTER_FILES: readonly string[] = [...ADAPTER_REQUIRED, 'README.md'];

export interface ZipLimits {
  /** Largest zip accepted. */
  maxZipBytes: number;
  /** Largest single file, uncompressed (declared and real: inflating stops at the declared size). */
  maxFileBytes: number;
  /** All files together, uncompressed. */
  maxTotalBytes: number;
  maxEntries: number;
}

/** Generous for LoRA adapters of models a tab can train (a few hundred MB with optimizer state), small enough that a
 * crafted zip cannot make the tab allocate gigabytes. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxZipBytes: 1024 * 1024 * 1024,
  maxFileBytes: 768 * 1024 * 1024,
  maxTotalBytes: 1536 * 1024 * 1024,
  maxEntries: 200,
};

export interface RunExport {
  manifest: ReproManifest;
  /** The PEFT folder: adapter_config.json, adapter_model.safetensors, README.md (the model card). */
  adapter: ReadonlyMap<string, Uint8Array>;
  /** tokenizer.json, tokenizer_config.json, … as fetched for the run. */
  tokenizer: ReadonlyMap<string, Uint8Array>;
  /** The generation settings the samples were drawn with (HF generation_config.json keys). */
  generationConfig: Record<string, unknown>;
  /** trainer_state.json text as src/train writes it. */
  trainerState: Uint8Array;
  metrics: readonly MetricPoint[];
  samples: readonly SampleRecord[];
  /** TabTune's resumable state (optimizer moments, RNG, cursor), present when the export can be continued. */
  checkpoint?: ReadonlyMap<string, Uint8Array>;
}

export type ImportedZip =
  | ({ kind: 'run'; ignored: string[] } & RunExport)
  | { kind: 'adapter'; adapter: Map<string, Uint8Array>; ignored: string[] };

/** Zip entries get a fixed time so the same run exports to the same bytes. */
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

function sortedJsonText(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === 'object'
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
      : v;
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

function addFolder(out: Zippable, dir: string, files: ReadonlyMap<string, Uint8Array>): void {
  for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!SAFE_NAME.test(name)) throw new Error(`cannot export "${dir}/${name}": file names may use letters, digits, ".", "_" and "-" only`);
    out[`${dir}/${name}`] = bytes;
  }
}

/** Builds the zip. Throws (before writing anything) when a required file is missing. */
export function buildRunZip(run: RunExport): Uint8Array {
  for (const name of [...ADAPTER_REQUIRED, 'README.md']) {
    if (!run.adapter.has(name)) throw new Error(`cannot export the run: the adapter folder has no ${name}`);
  }
  const manifest = parseManifest(run.manifest);
  const files: Zippable = {
    [ZIP_FILES.manifest]: utf8.encode(sortedJsonText(manifest)),
    [ZIP_FILES.generationConfig]: utf8.encode(sortedJsonText(run.generationConfig)),
    [ZIP_FILES.trainerState]: run.trainerState,
    [ZIP_FILES.metrics]: utf8.encode(metricsCsv(run.metrics)),
    [ZIP_FILES.samples]: utf8.encode(samplesJsonl(run.samples)),
  };
  addFolder(files, ADAPTER_DIR, run.adapter);
  addFolder(files, TOKENIZER_DIR, run.tokenizer);
  if (run.checkpoint) addFolder(files, CHECKPOINT_DIR, run.checkpoint);
  return zipSync(files, { level: 6, mtime: FIXED_MTIME });
}

/** Only the PEFT adapter folder (adapter_config.json, adapter_model.safetensors, README.md) at the top of a zip:
 * unzipped, it is a folder `PeftModel.from_pretrained` loads, and TabTune imports it as an adapter. */
export function buildAdapterZip(adapter: ReadonlyMap<string, Uint8Array>): Uint8Array {
  for (const name of [...ADAPTER_REQUIRED, 'README.md']) {
    if (!adapter.has(name)) throw new Error(`cannot export the adapter: the folder has no ${name}`);
  }
  const files: Zippable = {};
  for (const [name, bytes] of [...adapter].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!SAFE_NAME.test(name)) throw new Error(`cannot export "${name}": file names may use letters, digits, ".", "_" and "-" only`);
    files[name] = bytes;
  }
  return zipSync(files, { level: 6, mtime: FIXED_MTIME });
}

/** A zip that cannot be imported; the message says which file and what is wrong. */
export class RunZipError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunZipError';
  }
}

function checkName(name: string): void {
  if (name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.split('/').some((p) => p === '..' || p === '.')) {
    throw new RunZipError(`The zip contains an unsafe path "${name.slice(0, 200)}" (absolute, or with "." or ".."); it was not made by TabTune.`);
  }
}

/** A value from a zip's JSON quoted for a message: short, and never a recursive JSON.stringify of hostile nesting. */
function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === undefined) return 'nothing';
  return Array.isArray(value) ? `a list of ${value.length}` : 'an object';
}

/** Deflate cannot expand better than about 1032:1; a declared size beyond that is a lie, refused before inflating. */
const MAX_DEFLATE_RATIO = 1032;
/** Compressed bytes handed to the inflater at a time: one push expands to at most ~1 MiB, so a bomb is stopped
 * within one step of the declared size. */
const INFLATE_STEP = 1024;

interface CentralEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/** The zip's central directory, every field checked against the bytes and the limits; nothing is inflated yet. */
function centralDirectory(bytes: Uint8Array, limits: ZipLimits): CentralEntry[] {
  const notZip = (why: string) => new RunZipError(`This file is not a readable zip (${why}). Choose a zip exported by TabTune or a PEFT adapter folder zip.`);
  let eocd = -1;
  for (let o = bytes.length - 22; o >= Math.max(0, bytes.length - 22 - 0xffff); o--) {
    if (u32(bytes, o) === 0x06054b50) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw notZip('no end-of-directory record');
  const count = u16(bytes, eocd + 10);
  const cdSize = u32(bytes, eocd + 12);
  const cdOffset = u32(bytes, eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) throw notZip('ZIP64, which TabTune run zips never need');
  if (u16(bytes, eocd + 4) !== 0 || u16(bytes, eocd + 6) !== 0 || u16(bytes, eocd + 8) !== count) throw notZip('a multi-part zip');
  if (count > limits.maxEntries) throw new RunZipError(`The zip has more than ${limits.maxEntries} files (${count}); a TabTune run has a few dozen.`);
  if (cdOffset + cdSize > eocd) throw notZip('its directory runs past its end');
  const entries: CentralEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  let o = cdOffset;
  for (let i = 0; i < count; i++) {
    if (o + 46 > cdOffset + cdSize || u32(bytes, o) !== 0x02014b50) throw notZip(`directory entry ${i + 1} is damaged`);
    const flags = u16(bytes, o + 8);
    const nameLength = u16(bytes, o + 28);
    const next = o + 46 + nameLength + u16(bytes, o + 30) + u16(bytes, o + 32);
    if (next > cdOffset + cdSize) throw notZip(`directory entry ${i + 1} runs past the directory`);
    let name: string;
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(o + 46, o + 46 + nameLength));
    } catch {
      throw notZip(`directory entry ${i + 1} has a name that is not UTF-8`);
    }
    checkName(name);
    if (flags & 1) throw new RunZipError(`"${name.slice(0, 200)}" is encrypted; TabTune imports unencrypted zips only.`);
    if (seen.has(name)) throw new RunZipError(`The zip lists "${name.slice(0, 200)}" twice; a zip TabTune made never does, so it was altered.`);
    seen.add(name);
    const entry: CentralEntry = {
      name, method: u16(bytes, o + 10), crc: u32(bytes, o + 16), compressedSize: u32(bytes, o + 20), size: u32(bytes, o + 24), localOffset: u32(bytes, o + 42),
    };
    o = next;
    if (name.endsWith('/')) continue;
    if (entry.method !== 0 && entry.method !== 8) throw new RunZipError(`"${name.slice(0, 200)}" uses compression method ${entry.method}; TabTune reads stored and deflated files only.`);
    if (entry.size > limits.maxFileBytes) throw new RunZipError(`"${name.slice(0, 200)}" would expand to ${entry.size} bytes; the limit per file is ${limits.maxFileBytes}.`);
    if (entry.method === 0 ? entry.size !== entry.compressedSize : entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw new RunZipError(`"${name.slice(0, 200)}" declares ${entry.size} bytes from ${entry.compressedSize} compressed, which no zip can hold; the file is damaged.`);
    }
    total += entry.size;
    if (total > limits.maxTotalBytes) throw new RunZipError(`The zip would expand to more than ${limits.maxTotalBytes} bytes in all.`);
    entries.push(entry);
  }
  return entries;
}

/** One entry's bytes: read from its local header, inflated with its declared size as a hard bound, CRC-checked. */
function entryBytes(bytes: Uint8Array, e: CentralEntry): Uint8Array {
  const damaged = (why: string) => new RunZipError(`"${e.name.slice(0, 200)}" in the zip is damaged (${why}). Export the run again.`);
  const at = e.localOffset;
  if (at + 30 > bytes.length || u32(bytes, at) !== 0x04034b50) throw damaged('no local header where the directory points');
  const start = at + 30 + u16(bytes, at + 26) + u16(bytes, at + 28);
  const end = start + e.compressedSize;
  if (end > bytes.length) throw damaged('its data runs past the end of the zip');
  const data = bytes.subarray(start, end);
  let out: Uint8Array;
  if (e.method === 0) out = data.slice();
  else {
    // The output is gathered from the chunks the inflater really produces, so a declared size costs nothing until
    // the bytes exist, and inflating stops as soon as they pass it.
    const chunks: Uint8Array[] = [];
    let produced = 0;
    let finished = false;
    const inflater = new Inflate((chunk, final) => {
      produced += chunk.length;
      if (produced > e.size) throw damaged(`it inflates past its declared ${e.size} bytes`);
      chunks.push(chunk);
      if (final) finished = true;
    });
    try {
      if (data.length === 0) inflater.push(new Uint8Array(0), true);
      for (let p = 0; p < data.length; p += INFLATE_STEP) inflater.push(data.subarray(p, p + INFLATE_STEP), p + INFLATE_STEP >= data.length);
    } catch (err) {
      if (err instanceof RunZipError) throw err;
      throw damaged(`not valid deflate data: ${(err as Error).message}`);
    }
    if (!finished || produced !== e.size) throw damaged(`it inflates to ${produced} bytes, not the declared ${e.size}`);
    out = new Uint8Array(produced);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
  }
  if (crc32(out) !== e.crc) throw damaged('its CRC-32 does not match');
  return out;
}

/** Lists and size-checks every entry from the zip's own directory before anything is inflated, then inflates each
 * within its declared size. Names are Map keys, so "__proto__" or "constructor" are plain names. */
function unzipChecked(bytes: Uint8Array, limits: ZipLimits): Map<string, Uint8Array> {
  if (bytes.length > limits.maxZipBytes) throw new RunZipError(`The zip is ${bytes.length} bytes; TabTune imports at most ${limits.maxZipBytes}.`);
  const files = new Map<string, Uint8Array>();
  for (const e of centralDirectory(bytes, limits)) {
    if (e.name.startsWith('__MACOSX/') || e.name.endsWith('.DS_Store')) continue; // Finder's re-zip debris
    files.set(e.name, entryBytes(bytes, e));
  }
  return files;
}

/** A zip made by re-zipping the unpacked folder has everything under one top folder; look through it. */
function stripCommonFolder(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const names = [...files.keys()];
  const first = names[0]?.split('/')[0];
  if (!first || names.some((n) => !n.startsWith(`${first}/`))) return files;
  const known = [ZIP_FILES.manifest, ...ADAPTER_REQUIRED, `${ADAPTER_DIR}/${ADAPTER_REQUIRED[0]}`];
  if (known.some((k) => files.has(k))) return files;
  return new Map([...files].map(([n, b]) => [n.slice(first.length + 1), b]));
}

function parseJsonFile(files: Map<string, Uint8Array>, name: string): unknown {
  const bytes = files.get(name);
  if (!bytes) throw new RunZipError(`The zip has no ${name}.`);
  try {
    return JSON.parse(utf8.decode(bytes, name));
  } catch (e) {
    throw new RunZipError(`${name} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function folder(files: Map<string, Uint8Array>, dir: string, used: Set<string>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [name, bytes] of files) {
    if (!name.startsWith(`${dir}/`)) continue;
    const base = name.slice(dir.length + 1);
    if (base.includes('/')) continue;
    out.set(base, bytes);
    used.add(name);
  }
  return out;
}

/** Checks an adapter folder: required files present, a LoRA config, a safetensors file whose tensors are LoRA's. */
function checkAdapter(adapter: Map<string, Uint8Array>, where: string, baseModel?: string): void {
  for (const name of ADAPTER_REQUIRED) {
    if (!adapter.has(name)) throw new RunZipError(`${where}${name} is missing; a PEFT adapter folder needs ${ADAPTER_REQUIRED.join(' and ')}.`);
  }
  const config = parseJsonFile(new Map([[`${where}adapter_config.json`, adapter.get('adapter_config.json')!]]), `${where}adapter_config.json`) as Record<string, unknown> | null;
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new RunZipError(`${where}adapter_config.json must be a JSON object.`);
  if (config['peft_type'] !== 'LORA') throw new RunZipError(`${where}adapter_config.json has peft_type ${quote(config['peft_type'])}; TabTune imports LORA adapters only.`);
  if (typeof config['r'] !== 'number' || typeof config['lora_alpha'] !== 'number') throw new RunZipError(`${where}adapter_config.json needs numeric r and lora_alpha.`);
  if (baseModel !== undefined && config['base_model_name_or_path'] !== baseModel) {
    throw new RunZipError(`${where}adapter_config.json was trained on ${quote(config['base_model_name_or_path'])}, but the manifest says ${quote(baseModel)}; the zip was assembled from two different runs.`);
  }
  let names: string[];
  try {
    names = checkSafetensors(adapter.get('adapter_model.safetensors')!, `${where}adapter_model.safetensors`);
  } catch (e) {
    throw new RunZipError((e as Error).message, { cause: e });
  }
  if (!names.length || names.some((n) => !/\.lora_(A|B)\.weight$|\.lora_embedding_(A|B)$/.test(n))) {
    const odd = names.find((n) => !/lora_/.test(n)) ?? '(no tensors)';
    throw new RunZipError(`${where}adapter_model.safetensors holds ${odd}, which is not a LoRA tensor; TabTune imports LoRA adapters only.`);
  }
}

/** Reads an exported run (or a bare PEFT adapter) back, checking every file; throws RunZipError with the reason. */
export function readRunZip(bytes: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ImportedZip {
  const files = stripCommonFolder(unzipChecked(bytes, limits));
  const used = new Set<string>();
  if (!files.has(ZIP_FILES.manifest)) {
    // A folder saved by PEFT elsewhere: take its adapter files, never its pickles (training_args.bin and the like).
    const top = files.has('adapter_config.json');
    const adapter = new Map([...(top ? files : folder(files, ADAPTER_DIR, new Set()))].filter(([n]) => ADAPTER_FILES.includes(n)));
    for (const n of adapter.keys()) used.add(top ? n : `${ADAPTER_DIR}/${n}`);
    if (!adapter.has('adapter_config.json')) {
      throw new RunZipError('This zip holds neither a TabTune run (manifest.json) nor a PEFT adapter (adapter_config.json).');
    }
    checkAdapter(adapter, files.has('adapter_config.json') ? '' : `${ADAPTER_DIR}/`);
    const ignored = [...files.keys()].filter((n) => !used.has(n)).sort();
    return { kind: 'adapter', adapter, ignored };
  }

  let manifest: ReproManifest;
  try {
    manifest = parseManifest(parseJsonFile(files, ZIP_FILES.manifest));
  } catch (e) {
    if (e instanceof RunZipError) throw e;
    throw new RunZipError(`manifest.json: ${(e as Error).message}`, { cause: e });
  }
  for (const name of Object.values(ZIP_FILES)) {
    if (!files.has(name)) throw new RunZipError(`The zip has no ${name}; it is incomplete. Export the run again.`);
    used.add(name);
  }
  const adapter = folder(files, ADAPTER_DIR, used);
  checkAdapter(adapter, `${ADAPTER_DIR}/`, manifest.model.repo);
  const generationConfig = parseJsonFile(files, ZIP_FILES.generationConfig);
  if (!generationConfig || typeof generationConfig !== 'object' || Array.isArray(generationConfig)) throw new RunZipError('generation_config.json must be a JSON object.');
  const trainerState = parseJsonFile(files, ZIP_FILES.trainerState) as { log_history?: unknown } | null;
  if (!trainerState || !Array.isArray(trainerState.log_history)) throw new RunZipError('trainer_state.json has no log_history list; it is not a Trainer state file.');
  let metrics: MetricPoint[];
  let samples: SampleRecord[];
  try {
    metrics = parseMetricsCsv(utf8.decode(files.get(ZIP_FILES.metrics)!, ZIP_FILES.metrics));
    samples = parseSamplesJsonl(utf8.decode(files.get(ZIP_FILES.samples)!, ZIP_FILES.samples));
  } catch (e) {
    throw new RunZipError((e as Error).message, { cause: e });
  }
  const tokenizer = folder(files, TOKENIZER_DIR, used);
  if (!tokenizer.has('tokenizer_config.json')) throw new RunZipError('tokenizer/tokenizer_config.json is missing; the zip cannot reproduce the tokenization.');
  const checkpoint = folder(files, CHECKPOINT_DIR, used);
  const ignored = [...files.keys()].filter((n) => !used.has(n)).sort();
  return {
    kind: 'run', manifest, adapter, tokenizer, generationConfig: generationConfig as Record<string, unknown>,
    trainerState: files.get(ZIP_FILES.trainerState)!, metrics, samples, ignored,
    ...(checkpoint.size ? { checkpoint } : {}),
  };
}
