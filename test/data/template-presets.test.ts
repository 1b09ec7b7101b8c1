// The template presets (src/share/templates.ts) render real bundled rows and mask them as sft-conventions §9 says —
// every assistant content plus its end-of-turn token trained, headers and prompts not — on the real tokenizers the
// presets are written for. The plain prompt/completion preset puts a visible separator where concatenation glues.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/dataset.ts';
import type { Example } from '../../src/data/example.ts';
import type { MaskMode } from '../../src/data/masks.ts';
import { IGNORE_INDEX, type Row } from '../../src/data/types.ts';
import { PLAIN_SEPARATOR, PRESET_SOURCES, type PresetKind } from '../../src/share/templates.ts';
import { prepareDataset, type TemplateChoice } from '../../src/train/dataset.ts';
import { realTokenizer, type TokenizerName } from './tokenizers.ts';

async function bundled(file: string): Promise<Row[]> {
  const ds = await loadDataset(file, new Uint8Array(readFileSync(new URL(`../../public/datasets/${file}`, import.meta.url))));
  expect(ds.errors).toEqual([]);
  return ds.rows;
}

function prepare(rows: readonly Row[], tokenizer: TokenizerName, template: TemplateChoice, mask: MaskMode = 'assistant') {
  return prepareDataset(rows, { tokenizer: realTokenizer(tokenizer), template, mask, maxLength: 1024 });
}

/** The trained tokens of an example, as runs of consecutive trained tokens decoded one run at a time. */
function trainedRuns(ex: Example, name: TokenizerName): string[] {
  const tok = realTokenizer(name);
  const runs: number[][] = [];
  let open = false;
  ex.ids.forEach((id, i) => {
    if (ex.labels[i] === IGNORE_INDEX) {
      open = false;
      return;
    }
    if (!open) runs.push([]);
    open = true;
    runs[runs.length - 1]?.push(id);
  });
  return runs.map((r) => tok.decode(r));
}

function assistantContents(row: Row): string[] {
  if (row.kind === 'messages') return row.messages.filter((m) => m.role === 'assistant').map((m) => m.content);
  if (row.kind === 'instruction') return [row.output];
  if (row.kind === 'prompt-completion') return [row.completion];
  throw new Error(`no assistant turn in a ${row.kind} row`);
}

const CHAT_PRESETS: [PresetKind, TokenizerName, string][] = [
  ['chatml', 'qwen3', '<|im_end|>'],
  ['llama3', 'llama3_1', '<|eot_id|>'],
  ['gemma', 'gemma3', '<end_of_turn>'],
];

describe('template presets on bundled rows', () => {
  it.each(CHAT_PRESETS)('%s on %s: each assistant turn of trail-chat trains its content and %s, nothing else', async (kind, tokName, eot) => {
    const rows = (await bundled('trail-chat.jsonl')).slice(0, 5);
    const prepared = prepare(rows, tokName, { kind });
    expect(prepared.dropped).toEqual([]);
    expect(prepared.examples).toHaveLength(rows.length);
    prepared.examples.forEach((ex, i) => {
      const row = rows[i]!;
      expect(trainedRuns(ex, tokName)).toEqual(assistantContents(row).map((c) => realTokenizer(tokName).normalize(c) + eot));
      // The preset's own markup is in the text, and a system prompt is rendered (not dropped).
      expect(ex.text).toContain(eot);
      if (row.kind === 'messages' && row.messages[0]?.role === 'system') expect(ex.text).toContain(row.messages[0].content.slice(0, 30));
    });
    const codes = prepared.warnings.map((w) => w.code);
    expect(codes).not.toContain('end-of-turn-never-trained');
    expect(codes).not.toContain('bos-doubled');
    expect(codes).not.toContain('template-injected-trained');
  });

  it('alpaca on llama2: the incident summaries train output + </s> after "### Response:"', async () => {
    const rows = (await bundled('incident-summaries.jsonl')).slice(0, 5);
    const prepared = prepare(rows, 'llama2', { kind: 'alpaca' });
    expect(prepared.examples).toHaveLength(5);
    prepared.examples.forEach((ex, i) => {
      expect(ex.text).toContain('### Instruction:\n');
      expect(trainedRuns(ex, 'llama2')).toEqual(assistantContents(rows[i]!).map((c) => `${c}</s>`));
    });
  });

  it.each(['llama2', 'qwen3'] as const)('plain on %s: prompt, visible separator, completion + EOS; only the completion is trained', async (tokName) => {
    const rows = await bundled('science-answers.jsonl');
    const tok = realTokenizer(tokName);
    for (const mask of ['assistant', 'completion'] as const) {
      const prepared = prepare(rows, tokName, { kind: 'plain' }, mask);
      expect(prepared.examples).toHaveLength(rows.length);
      prepared.examples.forEach((ex, i) => {
        const row = rows[i]!;
        if (row.kind !== 'prompt-completion') throw new Error('science-answers has prompt/completion rows');
        expect(ex.text).toBe(`${tok.bosToken ?? ''}${row.prompt}${PLAIN_SEPARATOR}${row.completion}${tok.eosToken ?? ''}`);
        expect(trainedRuns(ex, tokName)).toEqual([`${row.completion}${tok.eosToken ?? ''}`]);
      });
      expect(prepared.warnings.map((w) => w.code)).not.toContain('no-prompt-separator');
      expect(prepared.warnings.map((w) => w.code)).not.toContain('prompt-not-token-prefix');
    }
  });

  it("the model's own template leaves prompt/completion rows concatenated, and the linter says they are glued", async () => {
    const rows = await bundled('science-answers.jsonl');
    const prepared = prepare(rows, 'llama2', { kind: 'chat' }, 'completion');
    expect(prepared.examples[0]?.text).toBe('At what temperature does water boil at sea level?100 degrees Celsius.</s>');
    const glued = prepared.warnings.find((w) => w.code === 'no-prompt-separator');
    expect(glued?.count).toBe(rows.length);
    // Plain rows need no chat template: no warning that Llama 2 base has none.
    expect(prepared.warnings.map((w) => w.code)).not.toContain('no-chat-template');
  });

  it('an edited preset is a custom template: its edit shows in the render and the masks follow it', async () => {
    const rows = (await bundled('science-answers.jsonl')).slice(0, 2);
    const edited = PRESET_SOURCES.plain.replaceAll('### Answer:', 'A:');
    const prepared = prepare(rows, 'qwen3', { kind: 'custom', source: edited, name: 'the edited template' });
    expect(prepared.examples[0]?.text).toBe('At what temperature does water boil at sea level?\nA:\n100 degrees Celsius.<|im_end|>');
    expect(trainedRuns(prepared.examples[0]!, 'qwen3')).toEqual(['100 degrees Celsius.<|im_end|>']);
  });
});
