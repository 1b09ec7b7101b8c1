// The Template & masks panel's template picker and editor on plain prompt/completion rows: the linter flags prompt and
// answer glued together; the plain prompt/completion template adds a visible separator; edits re-render and re-mask
// as they are typed; a broken edit says where (line:column) and the examples keep the last template that worked.
import { expect, test, type AppPage } from './fixtures';

const SHOTS = 'test-output/screenshots';

async function preparedWith(app: AppPage, template: string) {
  await expect.poll(async () => {
    const s = await app.state();
    return s.preparedState.status === 'ready' && s.prepared?.dataName === 'science-answers.jsonl' && s.prepared.template === template;
  }).toBe(true);
}

test('plain prompt/completion template picked and edited live; a broken edit shows line:column and keeps the render', async ({ app, page }) => {
  await app.open();
  await app.startup();
  await app.panel('data').getByLabel('Bundled dataset').selectOption('science-answers.jsonl');
  // The model's own template leaves prompt/completion rows concatenated: glued, and the linter says so.
  await preparedWith(app, 'none');
  const panel = app.panel('template');
  const tokens = panel.getByTestId('example-tokens');
  const trained = () => tokens.locator('[data-kind="trained"]').allTextContents().then((t) => t.join(''));
  await expect(tokens).toContainText('level?100');
  await expect(panel.getByTestId('lint')).toContainText('no-prompt-separator');
  await expect(panel.getByTestId('lint')).not.toContainText('no-chat-template');

  await panel.getByTestId('template-kind').selectOption('plain');
  await preparedWith(app, 'plain');
  await expect(tokens).toContainText('Answer:');
  await expect(tokens).not.toContainText('level?100');
  const eos = (await app.state()).model?.tokenizer.eosToken ?? '';
  await expect.poll(trained).toBe(`100 degrees Celsius.${eos}`);
  await expect(panel.locator('[data-testid="lint"], [data-testid="lint-clean"]')).not.toContainText('no-prompt-separator');
  await expect(panel.getByTestId('template-diff').locator('summary')).toContainText("Differences from the model's own template");
  await panel.screenshot({ path: `${SHOTS}/template-plain.png` });

  // A live edit: a shorter separator and no EOS after the answer. The render and the masks follow; the linter sees
  // that the end of turn is no longer trained.
  const source = panel.getByTestId('template-source');
  const plain = await source.inputValue();
  const edited = plain.replace("'\\n### Answer:\\n'", "'\\nA: '").replace("message['content'] + eos_token", "message['content']");
  expect(edited).not.toBe(plain);
  await source.fill(edited);
  await preparedWith(app, 'custom');
  expect((await app.state()).runConfig.template).toMatchObject({ kind: 'custom', source: edited });
  await expect(tokens).not.toContainText('Answer:');
  await expect.poll(trained).toBe('100 degrees Celsius.');
  await expect(panel.getByTestId('lint')).toContainText('end-of-turn-never-trained');
  await panel.getByTestId('template-diff').locator('summary').click();
  await expect(panel.getByTestId('template-diff')).toContainText("+ {{ '\\nA: ' + message['content'] }}");
  await panel.screenshot({ path: `${SHOTS}/template-edited.png` });

  // A broken edit: the for loop never closed. The error names line 2, column 1; the run keeps the last good template
  // and the examples stay as they were.
  const before = await tokens.textContent();
  await source.fill(edited.replace('{%- endfor -%}', ''));
  await expect(panel.getByTestId('template-error-at')).toHaveText('Line 2, column 1: ');
  await expect(panel.getByTestId('template-error')).toContainText('{% for %} is never closed');
  await expect(panel.getByTestId('template-error')).toContainText('still use the last template that worked');
  expect((await app.state()).runConfig.template.source).toBe(edited);
  expect((await app.state()).preparedState.status).toBe('ready');
  expect(await tokens.textContent()).toBe(before);
  await panel.screenshot({ path: `${SHOTS}/template-broken.png` });

  // Fixed again: the error goes, and the applied template is the fixed source.
  await source.fill(plain);
  await expect(panel.getByTestId('template-error')).toHaveCount(0);
  await expect.poll(async () => (await app.state()).runConfig.template.source).toBe(plain);
  await expect.poll(trained).toBe(`100 degrees Celsius.${eos}`);
  void page;
});
