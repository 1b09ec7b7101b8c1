// Run zip export/import: a full round trip, a bare PEFT adapter, determinism, and every malformed zip rejected with
// a message that names the problem.
import { strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/hub/safetensors.ts';
import { buildManifest } from '../../src/share/manifest.ts';
import { DEMO_MODEL_REPO, defaultRunConfig } from '../../src/share/run-config.ts';
import { metricsCsv, parseMetricsCsv } from '../../src/share/run-files.ts';
import { buildRunZip, DEFAULT_ZIP_LIMITS, readRunZip, RunZipError, type RunExport } from '../../src/share/run-zip.ts';
import { utf8 } from '../../src/share/codec.ts';

const PREFIX = 'base_model.model.model.layers.0.self_attn.q_proj';

function adapterFolder(base = DEMO_MODEL_REPO, tensorNames = [`${PREFIX}.lora_A.weight`, `${PREFIX}.lora_B.weight`]): Map<string, Uint8Array> {
  const weights = writeSafetensors(tensorNames.map((name, i) => ({ name, dtype: 'F32' as const, shape: [2, 4], data: Float32Array.from({ length: 8 }, (_, j) => i + j / 8) })));
  const config = { base_model_name_or_path: base, bias: 'none', lora_alpha: 16, peft_type: 'LORA', r: 2, target_modules: ['q_proj'], task_type: 'CAUSAL_LM' };
  return new Map([
    ['adapter_config.json', utf8.encode(JSON.stringify(config, null, 2))],
    ['adapter_model.safetensors', weights],
    ['README.md', utf8.encode(`---\nbase_model: ${DEMO_MODEL_REPO}\nlibrary_name: peft\n---\n`)],
  ]);
}

function runExport(): RunExport {
  const config = defaultRunConfig();
  return {
    manifest: buildManifest(config, { modelSha: 'c'.repeat(40), datasetHash: 'd'.repeat(64), datasetRows: 12, now: new Date('2026-02-03T04:05:06Z') }),
    adapter: adapterFolder(),
    tokenizer: new Map([['tokenizer.json', utf8.encode('{"model":{}}')], ['tokenizer_config.json', utf8.encode('{"eos_token":"</s>"}')]]),
    generationConfig: { max_new_tokens: 48, do_sample: true, temperature: 0.7, top_p: 0.9, eos_token_id: 2 },
    trainerState: utf8.encode('{\n  "global_step": 3,\n  "log_history": [{"loss": 2.5, "step": 1}]\n}\n'),
    metrics: [{ step: 1, trainLoss: 2.5, learningRate: 0.002, gradNorm: 1.25 }, { step: 2, trainLoss: 2.25 }, { step: 3, trainLoss: 0.1 + 0.2, evalLoss: 2.1 }],
    samples: [{ step: 3, prompt: 'Hi, "there"\n', completion: 'héllo 👋', flags: ['short'] }],
    checkpoint: new Map([['tabtune_checkpoint.json', utf8.encode('{"version":1}')]]),
  };
}

/** Unpacks a built zip, lets a test edit it, and zips it again. */
function edit(change: (files: Zippable) => void): Uint8Array {
  const files: Zippable = { ...unzipSync(buildRunZip(runExport())) };
  change(files);
  return zipSync(files);
}

function rejects(bytes: Uint8Array, message: RegExp, limits = DEFAULT_ZIP_LIMITS): void {
  expect(() => readRunZip(bytes, limits)).toThrow(RunZipError);
  expect(() => readRunZip(bytes, limits)).toThrow(message);
}

describe('run zip round trip', () => {
  it('exports every part and imports it back unchanged', () => {
    const run = runExport();
    const bytes = buildRunZip(run);
    const back = readRunZip(bytes);
    if (back.kind !== 'run') throw new Error('expected a run');
    expect(back.manifest).toEqual(run.manifest);
    expect([...back.adapter.keys()].sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect([...back.adapter.get('adapter_model.safetensors')!]).toEqual([...run.adapter.get('adapter_model.safetensors')!]);
    expect([...back.tokenizer.keys()].sort()).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    expect(back.generationConfig).toEqual(run.generationConfig);
    expect(utf8.decode(back.trainerState)).toBe(utf8.decode(run.trainerState));
    expect(back.metrics).toEqual(run.metrics);
    expect(back.samples).toEqual(run.samples);
    expect([...back.checkpoint!.keys()]).toEqual(['tabtune_checkpoint.json']);
    expect(back.ignored).toEqual([]);
  });

  it('the same run exports to the same bytes', () => {
    expect(Buffer.from(buildRunZip(runExport())).equals(Buffer.from(buildRunZip(runExport())))).toBe(true);
  });

  it('metrics.csv round-trips doubles exactly, including NaN from a diverged step', () => {
    const points = [{ step: 1, trainLoss: 0.1 + 0.2, gradNorm: Number.NaN }, { step: 2, evalLoss: 1e-9 }];
    const text = metricsCsv(points);
    expect(text.split('\n')[0]).toBe('step,train_loss,eval_loss,learning_rate,grad_norm,tokens_per_second');
    expect(parseMetricsCsv(text)).toEqual(points);
    expect(() => parseMetricsCsv('step,loss\n1,2\n')).toThrow(/header must be/);
    expect(() => parseMetricsCsv(`${text}3,abc,,,,\n`)).toThrow(/line 4: train_loss "abc" is not a number/);
  });

  it('a zip of the unpacked folder (one top folder) imports too, and Finder debris is skipped', () => {
    const inner = unzipSync(buildRunZip(runExport()));
    const nested: Zippable = { '__MACOSX/._manifest.json': strToU8('x') };
    for (const [name, data] of Object.entries(inner)) nested[`my-run/${name}`] = data;
    const back = readRunZip(zipSync(nested));
    expect(back.kind).toBe('run');
  });

  it('imports a bare PEFT adapter folder made elsewhere', () => {
    const files: Zippable = {};
    for (const [n, b] of adapterFolder('Qwen/Qwen3-0.6B')) files[n] = b;
    files['training_args.bin'] = new Uint8Array(4);
    const back = readRunZip(zipSync(files));
    expect(back.kind).toBe('adapter');
    expect([...back.adapter.keys()].sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect(back.ignored).toEqual(['training_args.bin']);
  });

  it('refuses to export without the adapter files', () => {
    const run = runExport();
    const adapter = new Map(run.adapter);
    adapter.delete('README.md');
    expect(() => buildRunZip({ ...run, adapter })).toThrow(/adapter folder has no README\.md/);
  });
});

describe('malformed zips are rejected with a message', () => {
  it('not a zip', () => rejects(utf8.encode('hello, I am not a zip'), /not a readable zip/));
  it('truncated', () => {
    const bytes = buildRunZip(runExport());
    rejects(bytes.subarray(0, bytes.length - 30), /not a readable zip/);
  });
  it('larger than the cap', () => rejects(buildRunZip(runExport()), /imports at most 100/, { ...DEFAULT_ZIP_LIMITS, maxZipBytes: 100 }));
  it('a file that expands past the per-file cap', () => {
    const bomb = zipSync({ 'manifest.json': new Uint8Array(200_000) });
    expect(bomb.length).toBeLessThan(2_000);
    rejects(bomb, /would expand to 200000 bytes/, { ...DEFAULT_ZIP_LIMITS, maxFileBytes: 100_000 });
  });
  it('too much in all', () => rejects(buildRunZip(runExport()), /more than 1000 bytes in all/, { ...DEFAULT_ZIP_LIMITS, maxTotalBytes: 1000 }));
  it('too many entries', () => {
    const many: Zippable = {};
    for (let i = 0; i < 30; i++) many[`f${i}.txt`] = strToU8('x');
    rejects(zipSync(many), /more than 20 files/, { ...DEFAULT_ZIP_LIMITS, maxEntries: 20 });
  });
  it('path traversal', () => rejects(zipSync({ '../evil.json': strToU8('{}') }), /unsafe path "\.\.\/evil\.json"/));
  it('neither a run nor an adapter', () => rejects(zipSync({ 'notes.txt': strToU8('hi') }), /neither a TabTune run.*nor a PEFT adapter/));
  it('manifest not JSON', () => rejects(edit((f) => { f['manifest.json'] = strToU8('{oops'); }), /manifest\.json is not valid JSON/));
  it('manifest fails the schema', () => {
    rejects(edit((f) => { f['manifest.json'] = strToU8(JSON.stringify({ ...runExport().manifest, model: { repo: 'a/b', revision: 'main', sha: 'short' } })); }), /manifest\.json: Invalid run manifest:[\s\S]*model\.sha/);
  });
  it('manifest of a newer version', () => {
    rejects(edit((f) => { f['manifest.json'] = strToU8(JSON.stringify({ ...runExport().manifest, manifestVersion: 2 })); }), /manifestVersion/);
  });
  it('a required file missing', () => rejects(edit((f) => { delete f['metrics.csv']; }), /no metrics\.csv; it is incomplete/));
  it('adapter weights missing', () => rejects(edit((f) => { delete f['adapter/adapter_model.safetensors']; }), /adapter\/adapter_model\.safetensors is missing/));
  it('adapter of another kind', () => {
    rejects(edit((f) => { f['adapter/adapter_config.json'] = strToU8('{"peft_type":"IA3","r":1,"lora_alpha":1}'); }), /peft_type "IA3"/);
  });
  it('adapter for another base model', () => {
    rejects(edit((f) => { f['adapter/adapter_config.json'] = adapterFolder('other/model').get('adapter_config.json')!; }), new RegExp(`trained on "other/model", but the manifest says "${DEMO_MODEL_REPO}"`));
  });
  it('adapter weights truncated', () => {
    rejects(edit((f) => { f['adapter/adapter_model.safetensors'] = (f['adapter/adapter_model.safetensors'] as Uint8Array).subarray(0, 40); }), /runs past the end|outside the/);
  });
  it('adapter weights that are not LoRA tensors', () => {
    rejects(edit((f) => { f['adapter/adapter_model.safetensors'] = adapterFolder(DEMO_MODEL_REPO, ['model.embed_tokens.weight']).get('adapter_model.safetensors')!; }), /model\.embed_tokens\.weight, which is not a LoRA tensor/);
  });
  it('trainer_state without log_history', () => rejects(edit((f) => { f['trainer_state.json'] = strToU8('{"global_step":1}'); }), /no log_history/));
  it('generation_config not an object', () => rejects(edit((f) => { f['generation_config.json'] = strToU8('[1]'); }), /generation_config\.json must be a JSON object/));
  it('samples with a bad line', () => rejects(edit((f) => { f['samples.jsonl'] = strToU8('{"step":1,"prompt":"a","completion":"b"}\n{"step":"x"}\n'); }), /samples\.jsonl line 2: step/));
  it('metrics with a bad cell', () => rejects(edit((f) => { f['metrics.csv'] = strToU8('step,train_loss,eval_loss,learning_rate,grad_norm,tokens_per_second\n1,2,3\n'); }), /metrics\.csv line 2: expected 6 cells/));
  it('no tokenizer config', () => rejects(edit((f) => { delete f['tokenizer/tokenizer_config.json']; }), /tokenizer_config\.json is missing/));
  it('a text file that is not UTF-8', () => rejects(edit((f) => { f['metrics.csv'] = Uint8Array.of(0xff, 0xfe, 0x00); }), /metrics\.csv is not valid UTF-8/));
});
