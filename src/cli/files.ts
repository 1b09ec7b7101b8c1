// Node file access for the CLI (src/train must not import node: modules): a local checkpoint folder as a FileSource,
// `--model`/`--tokenizer` references resolved to a folder or a Hub repo, and writing output folders.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hubConfig, parseRepoRef, type HubConfig } from '../train/sources.ts';
import { hubSource, type FileSource } from '../train/model-source.ts';
import { CliError } from './errors.ts';

/** A local folder in Hugging Face layout (files at the top level, as `save_pretrained` writes them). */
export function folderSource(dir: string): FileSource {
  const root = resolve(dir);
  return {
    id: dir,
    sha: null,
    list: async () => readdirSync(root).filter((name) => statSync(join(root, name)).isFile()),
    read: async (path) => {
      const full = join(root, path);
      if (!existsSync(full)) throw new CliError(`${dir} has no ${path}. HINT: is this the right folder?`);
      return new Uint8Array(readFileSync(full));
    },
  };
}

export function hubSettings(flag: string | undefined, env: Record<string, string | undefined>): HubConfig {
  return hubConfig(flag ?? env['HF_ENDPOINT'], env['HF_TOKEN']);
}

/** `--model` / `--tokenizer`: an existing local folder, else `org/name[@revision]` on the Hub endpoint. */
export async function openSource(ref: string, flag: string, hub: HubConfig, cwd: string): Promise<FileSource> {
  const local = resolve(cwd, ref);
  if (existsSync(local)) {
    if (!statSync(local).isDirectory()) throw new CliError(`${flag} ${ref} is a file; it must be a checkpoint folder (config.json, *.safetensors, tokenizer files) or a Hub repo id.`);
    return folderSource(local);
  }
  if (ref.startsWith('.') || ref.startsWith('/') || ref.split('/').length > 2) {
    throw new CliError(`${flag} ${ref}: no such folder. HINT: give an existing checkpoint folder, or a Hub repo id like org/name@revision.`);
  }
  const { repo, revision } = parseRepoRef(ref);
  return hubSource(hub, repo, revision);
}

export function readTextFile(path: string, flag: string, cwd: string): { name: string; bytes: Uint8Array; text: string } {
  const full = resolve(cwd, path);
  if (!existsSync(full)) throw new CliError(`${flag} ${path}: no such file. HINT: check the path (relative paths start at ${cwd}).`);
  if (statSync(full).isDirectory()) throw new CliError(`${flag} ${path} is a folder; it must be a file.`);
  const bytes = new Uint8Array(readFileSync(full));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CliError(`${flag} ${path} is not UTF-8 text. HINT: save it as UTF-8.`);
  }
  return { name: path, bytes, text };
}

export function readBinaryFile(path: string, flag: string, cwd: string): Uint8Array {
  const full = resolve(cwd, path);
  if (!existsSync(full)) throw new CliError(`${flag} ${path}: no such file. HINT: check the path (relative paths start at ${cwd}).`);
  if (statSync(full).isDirectory()) throw new CliError(`${flag} ${path} is a folder; it must be a file.`);
  return new Uint8Array(readFileSync(full));
}

export function readBinary(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new CliError(`${what}: ${path} does not exist.`);
  return new Uint8Array(readFileSync(path));
}

/** Writes every file into `dir` (created when missing). */
export function writeFolder(dir: string, files: ReadonlyMap<string, Uint8Array | string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of files) writeFileSync(join(dir, name), data);
}

export function writeFile(path: string, data: Uint8Array | string): void {
  writeFileSync(path, data);
}

/** Writes a file made of parts (views of large buffers, so nothing is concatenated in memory); creates its folder. */
export function writeParts(path: string, parts: readonly Uint8Array[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    for (const part of parts) {
      let done = 0;
      while (done < part.byteLength) done += writeSync(fd, part, done, part.byteLength - done);
    }
  } finally {
    closeSync(fd);
  }
}

export { existsSync, join, resolve };
