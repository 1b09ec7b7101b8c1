// `npm run pretrain-demo`: pretrains tabtune/tiny-storyteller, the app's default model, and writes it to
// fixtures/tiny-storyteller/ (committed; `npm run fixtures` serves it from the static Hub and the mirror).
//   npm run pretrain-demo                      retrain, write the checkpoint and record its sha256
//   npm run pretrain-demo -- --check           retrain in memory and compare with the recorded sha256 (exit 1 if not)
//   npm run pretrain-demo -- --steps N --out DIR   a shorter trial run written elsewhere (nothing recorded)
// Options: --threads N (CPU EP intra-op threads; the hash is reproducible for a given machine and thread count).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { modelCard } from './card.ts';
import { PROMPTS, SPEC } from './spec.ts';
import { continuations, pretrain, sha256 as sha256Hex, speechStats, type Continuation } from './train.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const CHECKPOINT_DIR = join(ROOT, 'fixtures/tiny-storyteller');
const RECORD_PATH = join(here, 'checkpoint.json');

interface CheckpointRecord {
  repo: string;
  threads: number;
  files: Record<string, string>;
}

function readRecord(): CheckpointRecord {
  return JSON.parse(readFileSync(RECORD_PATH, 'utf8')) as CheckpointRecord;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, steps: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' } },
    strict: true,
  });
  const check = values.check === true;
  const recorded = check ? readRecord() : null;
  const threads = values.threads ? Number(values.threads) : recorded?.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a whole number ≥ 1, got ${values.threads}`);
  const steps = values.steps ? Number(values.steps) : SPEC.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a whole number ≥ 1, got ${values.steps}`);
  if (check && (values.steps || values.out)) throw new Error('--check retrains the recorded run; drop --steps and --out');
  if (steps !== SPEC.steps && !values.out) throw new Error(`--steps ${steps} differs from the recorded run (${SPEC.steps}): give --out DIR for a trial run`);
  const out = values.out ? resolve(values.out) : CHECKPOINT_DIR;

  console.log(`pretraining ${SPEC.repo}: ${steps} steps, batch ${SPEC.batchSize}, ${threads} CPU threads`);
  const r = await pretrain(SPEC, {
    threads, steps,
    log: (l) => {
      if (l.step % 25 === 0 || l.step === 1 || l.step === steps) {
        console.log(`step ${l.step}/${steps} loss ${l.loss.toFixed(4)} lr ${l.lr.toExponential(2)} ${(l.tokens / l.seconds).toFixed(0)} tokens/s ${l.seconds.toFixed(0)} s`);
      }
    },
  });
  console.log(`trained ${r.trainedTokens} tokens in ${r.seconds.toFixed(0)} s (${(r.trainedTokens / r.seconds).toFixed(0)} tokens/s); final loss ${r.finalLoss.toFixed(4)}, eval loss ${r.evalLoss.toFixed(4)}`);
  console.log(`${r.params} parameters; corpus ${r.corpusBytes} bytes, ${r.corpusTokens} tokens in ${r.trainRows}+${r.evalRows} documents; sequence ${r.seqLen}`);
  console.log(`model.safetensors sha256 ${r.modelSha256}`);
  if (check) {
    const want = recorded!.files['model.safetensors'];
    if (want !== r.modelSha256) {
      console.error(`MISMATCH: recorded ${want}, retrained ${r.modelSha256} (threads ${threads}; the record was made with ${recorded!.threads})`);
      return 1;
    }
    console.log('matches the recorded checkpoint');
    return 0;
  }
  const samples: Continuation[] = await continuations(r.model, r.tokenizer, PROMPTS, 48, threads);
  const stats = speechStats(r.corpus, samples);
  for (const s of samples) console.log(`${JSON.stringify(s.prompt)} → ${JSON.stringify(s.text)}`);
  console.log(`word validity ${(stats.wordValidity * 100).toFixed(1)}% of ${stats.words} words; distinct sentences ${(stats.distinctSentences * 100).toFixed(1)}% of ${stats.sentences}`);
  const command = values.out ? `npm run pretrain-demo -- --steps ${steps} --out ${relative(ROOT, out)} --threads ${threads}` : `npm run pretrain-demo -- --threads ${threads}`;
  const files = new Map(r.files);
  files.set('README.md', modelCard(SPEC, r, { steps, command, samples, stats }));
  mkdirSync(out, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(out, name), bytes);
  if (!values.out) {
    const record: CheckpointRecord = { repo: SPEC.repo, threads, files: Object.fromEntries([...files.entries()].filter(([n]) => n !== 'README.md').map(([n, b]) => [n, sha256Hex(b)])) };
    writeFileSync(RECORD_PATH, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`wrote ${relative(ROOT, out)} and ${relative(ROOT, RECORD_PATH)}`);
  } else console.log(`wrote ${relative(ROOT, out)}`);
  return 0;
}

process.exitCode = await main();
