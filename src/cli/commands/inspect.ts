// `tabtune inspect`: every example as the trainer will see it (axolotl debug view: token, label, id, colours, totals),
// then the linter's warnings; `--json FILE` writes the ids and labels of the kept examples in file order.
import { defaultRunConfig, parseRunConfig, type RunConfig } from '../../share/run-config.ts';
import { sortedJson } from '../../train/json.ts';
import { DATA_FLAGS, HUB_FLAGS, num, oneOf, parseFlags, str, templateFlag, type Values } from '../args.ts';
import { MASK_POLICIES } from '../../share/run-config.ts';
import { writeFile, resolve } from '../files.ts';
import { debugExample, formatWarnings } from '../format.ts';
import { openSources, openTokenizer, readData, reportProblems, type CliIO } from '../load.ts';
import { readModelConfig } from '../../train/model-source.ts';
import { prepareExamples } from '../../train/session.ts';
import { count } from '../../share/wording.ts';

export const INSPECT_HELP = `tabtune inspect (--tokenizer T | --model M) --data FILE [--format F] [--template chat|chatml|llama3|gemma|alpaca|plain|FILE.jinja]
  [--mask assistant|last-assistant|completion|all|trl|axolotl|unsloth] [--max-length N] [--limit N] [--no-color]
  [--json FILE] [--hub-endpoint URL]
Prints each example in the axolotl debug format, then the mask linter's warnings.
`;

/** Data-only run config: the browser's defaults for mask, max length and template, with the flags applied. */
function dataConfig(v: Values, templateSource: string | undefined): RunConfig {
  const base = defaultRunConfig();
  const t = templateFlag(v);
  return parseRunConfig({
    ...base,
    mask: oneOf(v, 'mask', MASK_POLICIES) ?? base.mask,
    maxLength: num(v, 'max-length', { int: true, min: 8, max: 32768 }) ?? base.maxLength,
    template: t.kind === 'file' ? { kind: 'custom', source: templateSource ?? '', kwargs: {} } : { kind: t.kind, kwargs: {} },
  });
}

export async function inspectCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const v = parseFlags('inspect', argv, { ...HUB_FLAGS, ...DATA_FLAGS, tokenizer: { type: 'string' }, model: { type: 'string' }, limit: { type: 'string' }, 'no-color': { type: 'boolean' }, json: { type: 'string' } });
  if (v['help']) return io.out(INSPECT_HELP), 0;
  const limit = num(v, 'limit', { int: true, min: 1 });
  // The data file first: a wrong path or format fails before the tokenizer (the slow part) loads.
  const data = await readData(v, io, 'inspect');
  const sources = await openSources(v, io, 'inspect', false);
  const tok = await openTokenizer(sources);
  reportProblems(data, io);
  // With --model, the linter also checks token ids against the embedding rows (config.json only; no weights).
  const embeddingRows = sources.model ? (await readModelConfig(sources.model)).config.vocabSize : undefined;
  const config = dataConfig(v, data.templateSource);
  const ds = prepareExamples(config, tok, {
    name: data.name, hash: data.sha256, rows: data.rows,
    ...(data.templateSource !== undefined ? { templateSource: data.templateSource, templateName: str(v, 'template')! } : {}),
  }, embeddingRows);
  const color = !v['no-color'] && io.isTTY && io.env['NO_COLOR'] === undefined;
  const shown = limit === undefined ? ds.examples : ds.examples.slice(0, limit);
  shown.forEach((e, i) => io.out(`--- example ${i} (${e.id}) ---\n${debugExample(e, tok.tokenizer, color)}\n`));
  io.out(`${count(ds.examples.length, 'example')}, ${ds.dropped.length} dropped (mask ${config.mask}, max length ${config.maxLength})\n`);
  for (const d of ds.dropped.slice(0, 20)) io.out(`dropped ${d.id}: ${d.message}\n`);
  io.out(formatWarnings(ds.warnings));
  const json = str(v, 'json');
  if (json) {
    const out = {
      examples: shown.map((e, index) => ({ index, id: e.id, input_ids: e.ids, labels: Array.from(e.labels) })),
      dropped: ds.dropped.length,
      warnings: ds.warnings.map((w) => ({ code: w.code, message: w.message, count: w.count, example_ids: w.exampleIds })),
    };
    writeFile(resolve(io.cwd, json), sortedJson(out));
  }
  return 0;
}
