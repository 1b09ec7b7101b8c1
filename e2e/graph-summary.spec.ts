// The batch inspector's step-graph summary: after one batch by hand it shows the train-step graph's nodes by phase,
// layer and op and the largest tensors, and its node count equals what the benches report for the same model and run
// config (bench/graph-nodes.ts counts through the same engine/summary.ts). "Download ONNX" saves a zip whose
// manifest names the same count and whose train-step.onnx keeps its weights in weights.bin.
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { trainStepNodes } from '../bench/graph-nodes.ts';
import { expect, test } from './fixtures';

test('graph summary in the inspector: node count equals the bench count; ONNX download', async ({ app, page }) => {
  test.setTimeout(180_000);
  await app.open();
  await app.startup();
  await app.setUpCodewordRun({ steps: 2, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 });
  const batch = app.panel('batch');
  await batch.getByTestId('inspect-batch').click();
  await expect(batch.getByTestId('batch-loss')).toHaveText(/^\d+\.\d{4}$/, { timeout: 120_000 });

  const summary = batch.getByTestId('graph-summary');
  await summary.locator('summary').click();
  const shown = Number(await summary.getByTestId('graph-nodes').textContent());
  expect(shown).toBeGreaterThan(0);
  await expect(summary.getByTestId('graph-layers').getByRole('listitem').first()).toBeVisible();
  await expect(summary.getByTestId('graph-ops')).toContainText('MatMul');
  await expect(summary.getByTestId('graph-largest').locator('tr')).not.toHaveCount(0);

  // The bench's count for the same model config.json, run config and batch shape.
  const state = await app.state();
  const inspection = state.inspection!;
  const model = state.model!;
  const base = new URL(model.location.endpoint, page.url()).href.replace(/\/$/, '');
  const configJson: unknown = await (await page.request.get(`${base}/${model.location.repo}/resolve/${model.sha}/config.json`)).json();
  // The codeword set trains only its answers: the head runs on the rows a batch can train, and the panel says so.
  expect(inspection.headRows).not.toBeNull();
  expect(inspection.headRows! * 2).toBeLessThanOrEqual(inspection.batch * inspection.seqLen);
  await expect(summary.getByTestId('graph-head-rows')).toContainText(`run on ${inspection.headRows} rows, not on all ${inspection.batch * inspection.seqLen} positions`);
  const shape = { batch: inspection.batch, seqLen: inspection.seqLen, trainedRows: inspection.headRows! };
  const bench = trainStepNodes(configJson, state.runConfig, shape, 'wasm'); // the inspector ran on WASM
  expect(inspection.graph.nodes).toBe(shown);
  expect(shown).toBe(bench);
  const phases = inspection.graph.byPhase;
  expect(phases.forward + phases.backward + phases.optimizer).toBe(shown);
  expect(phases.backward).toBeGreaterThan(0);
  expect(phases.optimizer).toBeGreaterThan(0);

  const [download] = await Promise.all([page.waitForEvent('download'), summary.getByTestId('download-onnx').click()]);
  await expect(summary.getByTestId('onnx-status')).toContainText('weights.bin', { timeout: 60_000 });
  const files = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  const names = Object.keys(files).map((n) => n.split('/').slice(1).join('/'));
  for (const f of ['train-step.onnx', 'accumulate.onnx', 'eval.onnx', 'weights.bin', 'replay.bin', 'manifest.json']) expect(names).toContain(f);
  const manifestEntry = Object.keys(files).find((n) => n.endsWith('/manifest.json'))!;
  const manifest = JSON.parse(new TextDecoder().decode(files[manifestEntry])) as { graphs: Record<string, { nodes: number }> };
  expect(manifest.graphs['train-step']!.nodes).toBe(shown);
});
