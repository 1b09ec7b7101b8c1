// `tabtune lesson list | run NAME`: the app's lessons from the command line. A lesson is a preset run config
// (src/share/lessons.ts) trained through the run session like `tabtune train`, with its metric measured on held-out
// prompts before and after the run (src/train/lessons.ts). The output folder is what `tabtune train` writes; the JSON
// report names the base model folder so `tabtune generate --model M --adapter DIR` can question the result.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  describeTarget, findLesson, lessonConfig, lessonTarget, LESSON_MODEL_REPO, LESSONS, meetsTarget, type Lesson, type LessonTarget,
} from '../../share/lessons.ts';
import type { RunConfig } from '../../share/run-config.ts';
import { greedyAnswers, heldOutPrompts, LessonProbe, lintFlagged, servedSession, type AdapterState, type Measurement } from '../../train/lessons.ts';
import { loadTokenizerFrom, readModelConfig } from '../../train/model-source.ts';
import { prepareExamples } from '../../train/session.ts';
import { SAMPLE_DATASETS } from '../../train/sources.ts';
import type { TrainerCheckpoint } from '../../train/state.ts';
import { BACKENDS, DEFAULT_BACKEND, HUB_FLAGS, num, oneOf, parseFlags, str, type Values } from '../args.ts';
import { CliError } from '../errors.ts';
import { existsSync, folderSource, join, resolve, writeFile } from '../files.ts';
import { readData, type CliIO } from '../load.ts';
import { openBackend, setup } from '../setup.ts';
import { writeOutputs } from './train.ts';

export const LESSON_HELP = `tabtune lesson list [--json] | tabtune lesson run NAME [--variation ID] [--model M] [--steps N] [--backend cpu|wasm|webgpu] --out DIR [--json FILE]
Lessons: guided runs whose metric (stop rate, held-out accuracy, eval loss, …) is measured before and after training.
\`list --json\` prints [{"name","title","metric","target"}]. \`run\` trains the lesson on the bundled base model (or
--model; --steps shortens or lengthens its run), writes the adapter to DIR as \`tabtune train\` does, and writes {"lesson","metric","before","after","target",
"met","steps","seconds","model",…} to FILE (stdout without --json). --variation runs one of its "you could try" changes.
`;

/** The repository root: bundled datasets and the app's static Hub live under it. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A repo of the app's static Hub (public/hub, `/{repo}/resolve/{sha}/`) or of the fixture mirror, as a local folder. */
function bundledRepoFolder(repo: string): string {
  const revisionFile = join(ROOT, 'public', 'hub', 'api', 'models', repo, 'revision', 'main');
  if (existsSync(revisionFile)) {
    const sha = (JSON.parse(readFileSync(revisionFile, 'utf8')) as { sha?: string }).sha;
    const dir = join(ROOT, 'public', 'hub', repo, 'resolve', sha ?? 'main');
    if (existsSync(join(dir, 'config.json')) || existsSync(join(dir, 'tokenizer.json'))) return dir;
  }
  const fixture = join(ROOT, 'fixtures', 'generated', 'hub', repo);
  if (existsSync(fixture)) return fixture;
  throw new CliError(`${repo} is not in the bundled Hub (public/hub) or the fixtures. HINT: run \`npm run fixtures:ensure\`, or pass --model FOLDER.`);
}

function datasetPath(config: RunConfig): string {
  const d = config.data;
  if (d.source !== 'bundled') throw new CliError('lessons train on bundled datasets only');
  const sample = SAMPLE_DATASETS.find((s) => s.file === d.name || s.id === d.name);
  if (!sample) throw new CliError(`the lesson names a bundled dataset "${d.name}" that TabTune does not ship`);
  return join(ROOT, 'public', 'datasets', sample.file);
}

function listLessons(json: boolean, io: CliIO): number {
  const rows = LESSONS.map((l) => ({ name: l.name, title: l.title, metric: l.metric.label, target: describeTarget(l.target, l.metric) }));
  if (json) io.out(`${JSON.stringify(rows, null, 2)}\n`);
  else for (const r of rows) io.out(`${r.name.padEnd(22)} ${r.title} — ${r.metric} ${r.target}\n`);
  return 0;
}

interface LessonReport {
  lesson: string;
  variation?: string;
  metric: string;
  before: number;
  after: number;
  target: string | null;
  met: boolean | null;
  steps: number;
  seconds: number;
  model: string;
  /** Best eval loss of the run and its step (the overfitting lesson also writes that checkpoint to DIR/best). */
  best?: { step: number; evalLoss: number };
  /** Overfitting: held-out prompts answered by the best checkpoint (written to DIR/best) and by the latest. */
  bestVsLatest?: { prompt: string; best: string; latest: string }[];
  /** Linter lessons that train (doubled BOS): a second metric on the held-out rows as trained and as served, before
   * and after the run, with what the trained model answered each way. */
  effect?: {
    metric: string;
    about: string;
    /** The metric before and after, and the held-out eval loss before and after. */
    asTrained: { before: number; after: number; evalLossBefore: number; evalLossAfter: number };
    asServed: { before: number; after: number; evalLossBefore: number; evalLossAfter: number };
    samples: { prompt: string; reference: string; asTrained: string; asServed: string }[];
  };
  /** Why training was refused (the mismatched-tokenizer lesson). */
  refused?: string;
  /** Held-out prompts after the run: what the model answered (generation metrics). */
  samples?: { prompt: string; reference: string; answer: string; stopped: boolean }[];
}

export async function lessonCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') return io.out(LESSON_HELP), sub === undefined ? 1 : 0;
  if (sub === 'list') {
    const v = parseFlags('lesson list', rest, { json: { type: 'boolean' } });
    if (v['help']) return io.out(LESSON_HELP), 0;
    return listLessons(v['json'] === true, io);
  }
  if (sub !== 'run') throw new CliError(`unknown lesson command "${sub}". HINT: \`tabtune lesson list\` or \`tabtune lesson run NAME --out DIR\`.`);
  const [name, ...flags] = rest;
  if (!name || name.startsWith('-')) throw new CliError(`tabtune lesson run needs a lesson name, e.g. \`tabtune lesson run ${LESSONS[0]!.name} --out runs/lesson\`. Lessons: ${LESSONS.map((l) => l.name).join(', ')}.`);
  const v = parseFlags('lesson run', flags, {
    ...HUB_FLAGS, model: { type: 'string' }, variation: { type: 'string' }, backend: { type: 'string' }, out: { type: 'string' }, json: { type: 'string' }, steps: { type: 'string' },
  });
  if (v['help']) return io.out(LESSON_HELP), 0;
  let lesson: Lesson;
  try {
    lesson = findLesson(name);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const out = str(v, 'out');
  if (!out) throw new CliError(`tabtune lesson run needs --out DIR (where the adapter goes), e.g. --out runs/${lesson.name}`);
  const report = await runLesson(lesson, v, resolve(io.cwd, out), io);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const jsonPath = str(v, 'json');
  if (jsonPath) writeFile(resolve(io.cwd, jsonPath), json);
  else io.out(json);
  io.err(`${lesson.title}: ${report.metric} ${report.before.toFixed(3)} → ${report.after.toFixed(3)} (target ${report.target ?? 'none'}${report.met === null ? '' : report.met ? ', met' : ', NOT met'}) in ${report.steps} steps, ${report.seconds.toFixed(1)} s\n`);
  return 0;
}

async function runLesson(lesson: Lesson, v: Values, out: string, io: CliIO): Promise<LessonReport> {
  const started = Date.now();
  const variation = str(v, 'variation');
  let target: LessonTarget | null;
  try {
    target = lessonTarget(lesson, variation);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const backendKind = oneOf(v, 'backend', BACKENDS) ?? DEFAULT_BACKEND;
  const modelFlag = str(v, 'model');
  const modelDir = modelFlag ? resolve(io.cwd, modelFlag) : bundledRepoFolder(LESSON_MODEL_REPO);
  const ownTokenizer = await loadTokenizerFrom(folderSource(modelDir));
  const own = ownTokenizer.tokenizer;
  let preset: RunConfig;
  try {
    preset = lessonConfig(lesson, { repo: LESSON_MODEL_REPO, chatTemplate: own.chatTemplate, bosToken: own.bosToken }, variation);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const steps = num(v, 'steps', { int: true, min: 1 });
  const config = steps === undefined ? preset : { ...preset, train: { ...preset.train, steps } };
  const flags: Values = {
    model: modelDir, data: datasetPath(config), backend: backendKind,
    ...(config.tokenizer ? { tokenizer: bundledRepoFolder(config.tokenizer.repo) } : {}),
    ...(str(v, 'hub-endpoint') ? { 'hub-endpoint': str(v, 'hub-endpoint') } : {}),
  };
  const head = { lesson: lesson.name, ...(variation ? { variation } : {}), metric: lesson.metric.label };
  const targetText = target ? describeTarget(target, lesson.metric) : null;
  const seconds = () => (Date.now() - started) / 1000;

  // The linter's findings come from rendering and tokenising alone, so they are measured before any weights load —
  // and a run the session refuses (ids past the embedding table) is still a lesson: the linter caught it.
  if (lesson.metric.kind === 'lint-flagged') {
    const tok = config.tokenizer ? await loadTokenizerFrom(folderSource(flags['tokenizer'] as string)) : ownTokenizer;
    const { config: modelConfig } = await readModelConfig(folderSource(modelDir));
    const data = await readData(flags, io, 'lesson');
    const flagged = lintFlagged({ dataset: prepareExamples(config, tok, { name: data.name, hash: data.sha256, rows: data.rows }, modelConfig.vocabSize) }, lesson.metric);
    if (config.tokenizer && tok.tokenizer.vocabSize > modelConfig.vocabSize) {
      const refused = `the run was refused: ${tok.id}'s ${tok.tokenizer.vocabSize} ids do not fit the ${modelConfig.vocabSize}-row embedding table`;
      io.out(`Linter: ${flagged} examples flagged (${lesson.metric.lintCode}); ${refused}.\n`);
      return { ...head, before: flagged, after: flagged, target: targetText, met: target ? meetsTarget(target, flagged, flagged) : null, steps: 0, seconds: seconds(), model: modelDir, refused };
    }
  }

  const s = await setup(flags, io, 'lesson', { config });
  const session = s.session;
  const backend = await openBackend(backendKind);
  const trainer = await session.createTrainer({ backend, model: s.model });
  const probe = LessonProbe.create(lesson.metric, session, backend, s.model);
  // The effect of training on what the linter flagged: measured on the lesson's render and on the served one.
  const effect = lesson.effect && !variation ? lesson.effect : null;
  const served = effect
    ? servedSession(session, { ...lessonConfig(lesson, { repo: LESSON_MODEL_REPO, chatTemplate: own.chatTemplate, bosToken: own.bosToken }, effect.servedAs), train: config.train })
    : null;
  const effectProbes = effect && served ? [LessonProbe.create(effect.metric, session, backend, s.model), LessonProbe.create(effect.metric, served, backend, s.model)] as const : null;
  // Each measurement: the effect metric as trained and as served, then the held-out eval loss each way (the served
  // rows through a second trainer holding the same weights).
  const measureEffect = async (): Promise<{ answers: Measurement[]; evalLoss: number[] } | null> => {
    if (!effectProbes || !served) return null;
    const answers = [await effectProbes[0].measure(trainer), await effectProbes[1].measure(trainer)];
    const other = await served.createTrainer({ backend, model: s.model, resume: await trainer.checkpoint() });
    try {
      return { answers, evalLoss: [(await trainer.evaluate()).loss, (await other.evaluate()).loss] };
    } finally {
      await other.release();
    }
  };
  let best: { step: number; evalLoss: number; checkpoint: TrainerCheckpoint } | null = null;
  try {
    io.out(`Lesson ${lesson.name}${variation ? ` (${variation})` : ''}: ${session.train.length} training rows, ${session.evalSet.length} held out, ${session.config.train.steps} steps on ${backend.label}\n`);
    const before = await probe.measure(trainer);
    io.out(`before: ${lesson.metric.label} = ${before.value.toFixed(4)}\n`);
    const effectBefore = await measureEffect();
    if (effectBefore) io.out(`before: ${effect!.metric.label} as trained ${effectBefore.answers[0]!.value.toFixed(4)}, as served ${effectBefore.answers[1]!.value.toFixed(4)}; eval loss ${effectBefore.evalLoss.map((x) => x.toFixed(4)).join(' / ')}\n`);
    if (lesson.metric.kind === 'eval-loss') best = { step: 0, evalLoss: before.value, checkpoint: await trainer.checkpoint() };
    let lastEval: { step: number; loss: number } | null = null;
    const result = await trainer.run({
      signal: io.signal,
      onStep: (r) => io.out(`step ${r.step}/${trainer.totalSteps} loss ${r.loss.toFixed(4)}\n`),
      onEval: (r) => {
        lastEval = r;
        io.out(`eval step ${r.step}: loss ${r.loss.toFixed(4)}\n`);
      },
      onCheckpoint: (c) => {
        const e = lastEval as { step: number; loss: number } | null;
        if (best && e && e.step === c.step && e.loss < best.evalLoss) best = { step: c.step, evalLoss: e.loss, checkpoint: c };
      },
    });
    const after = await probe.measure(trainer);
    io.out(`after: ${lesson.metric.label} = ${after.value.toFixed(4)}\n`);
    const effectAfter = await measureEffect();
    if (effectAfter) io.out(`after: ${effect!.metric.label} as trained ${effectAfter.answers[0]!.value.toFixed(4)}, as served ${effectAfter.answers[1]!.value.toFixed(4)}; eval loss ${effectAfter.evalLoss.map((x) => x.toFixed(4)).join(' / ')}\n`);
    const final = await trainer.checkpoint();
    writeOutputs(out, s, session, final, trainer, backend.label, null);
    const bestRun = best as { step: number; evalLoss: number; checkpoint: TrainerCheckpoint } | null;
    let compared: LessonReport['bestVsLatest'];
    if (bestRun && bestRun.step !== final.step) {
      writeOutputs(join(out, 'best'), s, session, bestRun.checkpoint, trainer, backend.label, null);
      // Overfitting: what the best and the latest checkpoints answer to the same held-out prompts.
      const prompts = heldOutPrompts(session, 3);
      const opts = { maxNewTokens: 24, stopIds: session.stopIds(), padId: session.padId };
      const as = (c: TrainerCheckpoint): AdapterState => ({ plan: trainer.plan, fullTensors: trainer.fullTensors, params: c.params, step: c.step });
      const bestOut = await greedyAnswers(backend, s.model, prompts, opts, as(bestRun.checkpoint));
      const latestOut = await greedyAnswers(backend, s.model, prompts, opts, as(final));
      const dec = (ids: readonly number[] | undefined) => s.tokenizer.tokenizer.decode([...(ids ?? [])]);
      compared = prompts.map((p, i) => ({ prompt: dec(p).slice(-160), best: dec(bestOut[i]), latest: dec(latestOut[i]) }));
    }
    if (result.reason === 'non-finite') throw new CliError(`step ${result.badStep} produced a non-finite loss; the lesson's learning rate is too high for this model.`);
    return {
      ...head, before: before.value, after: after.value, target: targetText,
      met: target ? meetsTarget(target, after.value, before.value, bestRun?.evalLoss) : null,
      steps: result.step, seconds: seconds(), model: modelDir,
      ...(bestRun ? { best: { step: bestRun.step, evalLoss: bestRun.evalLoss } } : {}),
      ...(compared ? { bestVsLatest: compared } : {}),
      ...(effect && effectBefore && effectAfter ? {
        effect: {
          metric: effect.metric.label, about: effect.about,
          asTrained: { before: effectBefore.answers[0]!.value, after: effectAfter.answers[0]!.value, evalLossBefore: effectBefore.evalLoss[0]!, evalLossAfter: effectAfter.evalLoss[0]! },
          asServed: { before: effectBefore.answers[1]!.value, after: effectAfter.answers[1]!.value, evalLossBefore: effectBefore.evalLoss[1]!, evalLossAfter: effectAfter.evalLoss[1]! },
          samples: effectAfter.answers[1]!.rows.map((r, i) => ({ prompt: r.prompt.slice(-120), reference: r.reference, asTrained: effectAfter.answers[0]!.rows[i]?.answer ?? '', asServed: r.answer })),
        },
      } : {}),
      ...(after.rows.length > 0 ? { samples: after.rows.map(({ prompt, reference, answer, stopped }) => ({ prompt: prompt.slice(-160), reference, answer, stopped })) } : {}),
    };
  } finally {
    await probe.release();
    for (const p of effectProbes ?? []) await p.release();
    await trainer.release();
    await backend.release();
  }
}
