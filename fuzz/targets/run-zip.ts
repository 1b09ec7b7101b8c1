// A run zip or a bare PEFT adapter zip, imported by readRunZip (the app's "import run" and the CLI).
import { zipSync } from 'fflate';
import { buildManifest } from '../../src/share/manifest.ts';
import { defaultRunConfig } from '../../src/share/run-config.ts';
import { buildRunZip, readRunZip, RunZipError } from '../../src/share/run-zip.ts';
import { tinyAdapterWeights } from '../support/checkpoints.ts';
import type { FuzzTarget, Rng } from '../target.ts';

const enc = new TextEncoder();

function adapterFolder(): Map<string, Uint8Array> {
  const config = { base_model_name_or_path: 'fuzz/tiny', bias: 'none', lora_alpha: 4, peft_type: 'LORA', r: 2, target_modules: ['q_proj', 'v_proj'], task_type: 'CAUSAL_LM' };
  return new Map([
    ['adapter_config.json', enc.encode(JSON.stringify(config, null, 2))],
    ['adapter_model.safetensors', tinyAdapterWeights()],
    ['README.md', enc.encode('---\nbase_model: fuzz/tiny\nlibrary_name: peft\n---\n')],
  ]);
}

function runZip(): Uint8Array {
  const config = defaultRunConfig();
  const manifest = buildManifest({ ...config, model: { ...config.model, repo: 'fuzz/tiny' } }, {
    modelSha: 'c'.repeat(40), datasetHash: 'd'.repeat(64), datasetRows: 12, now: new Date('2026-02-03T04:05:06Z'),
  });
  return buildRunZip({
    manifest,
    adapter: adapterFolder(),
    tokenizer: new Map([['tokenizer.json', enc.encode('{"model":{}}')], ['tokenizer_config.json', enc.encode('{"eos_token":"</s>"}')]]),
    generationConfig: { max_new_tokens: 48, do_sample: true, temperature: 0.7, top_p: 0.9, eos_token_id: 2 },
    trainerState: enc.encode('{\n  "global_step": 3,\n  "log_history": [{"loss": 2.5, "step": 1}]\n}\n'),
    metrics: [{ step: 1, trainLoss: 2.5, learningRate: 0.002, gradNorm: 1.25 }, { step: 2, trainLoss: 2.25 }],
    samples: [{ step: 2, prompt: 'Hi', completion: 'héllo', flags: [] }],
    checkpoint: new Map([['tabtune_checkpoint.json', enc.encode('{"version":1}')]]),
  });
}

/** The files of both seed zips, for the structure-aware mutation below. */
const runFiles = (() => {
  const out = new Map<string, Uint8Array>();
  const cd = runZip();
  // Read back with the reader under test on the (valid) seed, so the mutation starts from exactly its files.
  const got = readRunZip(cd);
  if (got.kind !== 'run') throw new Error('the run seed must import as a run');
  out.set('manifest.json', enc.encode(JSON.stringify(got.manifest)));
  for (const [n, b] of got.adapter) out.set(`adapter/${n}`, b);
  for (const [n, b] of got.tokenizer) out.set(`tokenizer/${n}`, b);
  for (const [n, b] of got.checkpoint ?? []) out.set(`checkpoint/${n}`, b);
  out.set('generation_config.json', enc.encode(JSON.stringify(got.generationConfig)));
  out.set('trainer_state.json', got.trainerState);
  out.set('metrics.csv', enc.encode('step,train_loss,eval_loss,learning_rate,grad_norm,tokens_per_second\n1,2.5,,0.002,1.25,\n'));
  out.set('samples.jsonl', enc.encode('{"step":2,"prompt":"Hi","completion":"héllo","flags":[]}\n'));
  return out;
})();

/** Mutates one file inside a valid zip (so the CRC is right and the reader gets past the container), sometimes
 * drops a file, and zips the result again: the generic byte mutations rarely get through the CRC check. */
function mutateInside(rng: Rng): Uint8Array {
  const files = new Map(rng.next() < 0.7 ? runFiles : [...adapterFolder()]);
  const names = [...files.keys()];
  const name = rng.pick(names);
  if (rng.next() < 0.1) files.delete(name);
  else {
    const bytes = files.get(name)!.slice();
    const edits = 1 + rng.int(4);
    let out = bytes;
    for (let e = 0; e < edits && out.length > 0; e++) {
      const at = rng.int(out.length);
      const op = rng.int(4);
      if (op === 0) out[at] = rng.int(256);
      else if (op === 1) out = out.slice(0, at);
      else if (op === 2) out = Uint8Array.from([...out.subarray(0, at), ...enc.encode(rng.pick(['null', '[]', '{}', '"x"', '-1', '1e309', '__proto__', '0'])), ...out.subarray(at)]);
      else out = Uint8Array.from([...out, ...out.subarray(at)]);
    }
    files.set(name, out);
  }
  return zipSync(Object.fromEntries(files), { level: rng.pick([0, 6]) });
}

export default {
  name: 'run-zip',
  mutate: (_input, rng) => mutateInside(rng),
  seeds: () => [
    runZip(),
    zipSync(Object.fromEntries(adapterFolder()), { level: 6 }),
    zipSync({ 'my-adapter': Object.fromEntries(adapterFolder()) }, { level: 0 }),
  ],
  run(input) {
    readRunZip(input);
  },
  rejects: [RunZipError],
} satisfies FuzzTarget;
