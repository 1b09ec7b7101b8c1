// "Graduate to a GPU cluster" in the worker: the prepared run's rows (train and held-out eval, normalised as TabTune
// rendered them) become the data files of src/share/cluster.ts's Axolotl YAML + TRL SFTTrainer bundle, which is also
// zipped whole. The worker owns the rows, so the job is assembled here rather than on the page.
import { zipSync } from 'fflate';
import type { Example } from '../../data/index.ts';
import { clusterBundle, type ClusterDataFormat, type ClusterJob } from '../../share/cluster.ts';
import type { RunConfig } from '../../share/run-config.ts';
import type { ClusterExportResult } from '../protocol';
import type { Playground } from './playground';
import type { TrainingHost } from './training';

/** The row layout of the exported file: chat messages for templated rows, otherwise prompt/completion or text. */
function formatOf(e: Example): ClusterDataFormat {
  if (e.templated) return 'messages';
  return e.completionStart !== undefined ? 'prompt-completion' : 'text';
}

function row(e: Example, format: ClusterDataFormat): Record<string, unknown> {
  if (format === 'messages') return { messages: e.messages.map((m) => ({ role: m.role, content: m.content })) };
  if (format === 'prompt-completion') {
    const at = e.completionStart ?? 0;
    return { prompt: e.text.slice(0, at), completion: e.text.slice(at) };
  }
  return { text: e.text };
}

function jsonl(examples: readonly Example[], format: ClusterDataFormat): Uint8Array {
  return new TextEncoder().encode(examples.map((e) => JSON.stringify(row(e, format))).join('\n') + (examples.length ? '\n' : ''));
}

/** The job for the run started last when there is one (its config and rows, frozen at start), otherwise for the
 * prepared examples under the page's config. */
export function exportCluster(pg: Playground, training: TrainingHost, pageConfig: RunConfig): ClusterExportResult {
  const run = training.exportable().run;
  const p = run ? run.session : pg.requirePrepared().session.withConfig(pageConfig);
  const config = p.config;
  const first = p.train[0];
  if (!first) throw new Error('The prepared run has no training examples; pick a dataset with usable rows first.');
  const format = formatOf(first);
  const base = (config.data.source === 'hub' ? (config.data.file ?? config.data.repo) : config.data.name).replace(/\.[^.]*$/, '').replace(/[^\w.-]/g, '_');
  const job: ClusterJob = {
    config,
    dataFormat: format,
    // Hub data is referenced by its pinned revision; local data travels as the exact rows TabTune trained on.
    ...(config.data.source === 'hub' ? {} : { dataFile: { name: `${base}.train.jsonl`, bytes: jsonl(p.train, format) } }),
    ...(config.data.source !== 'hub' && p.evalSet.length ? { evalFile: { name: `${base}.eval.jsonl`, bytes: jsonl(p.evalSet, format) } } : {}),
    ...(p.dataset.template ? { templateSource: p.dataset.template.source } : {}),
  };
  const files = clusterBundle(job);
  const text = (path: string) => {
    const f = files.get(path);
    return typeof f === 'string' ? f : '';
  };
  const zipped = zipSync(Object.fromEntries([...files].map(([path, f]) => [path, typeof f === 'string' ? new TextEncoder().encode(f) : f])), {
    level: 6, mtime: new Date('2000-01-01T00:00:00Z'),
  });
  return {
    axolotlYaml: text('axolotl.yaml'),
    trlScript: text('train_sft.py'),
    readme: text('README.md'),
    files: [...files.keys()].sort(),
    zip: zipped,
    fileName: `tabtune-${config.model.repo.replace(/\//g, '--')}-cluster.zip`,
  };
}
