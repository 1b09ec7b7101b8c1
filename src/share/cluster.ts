// "Graduate to a GPU cluster": the same job as an Axolotl YAML config and a TRL SFTTrainer script, both launchable
// with `accelerate launch`, bundled with the data rows and a README saying where the two tools differ from the tab.
import { axolotlYaml } from './cluster-axolotl.ts';
import { AXOLOTL_FILE, dataPaths, maskMapping, TRL_FILE, type ClusterJob } from './cluster-job.ts';
import { trlScript } from './cluster-trl.ts';

export type { ClusterDataFormat, ClusterJob,  } from './cluster-job.ts';
export { effectiveTemplate,  maskMapping } from './cluster-job.ts';
export { axolotlYaml } from './cluster-axolotl.ts';
export { trlScript } from './cluster-trl.ts';

function readme(job: ClusterJob): string {
  const m = maskMapping(job.config.mask, job.dataFormat);
  return [
    `# ${job.config.model.repo} LoRA job exported from TabTune`,
    '',
    'Both files describe the same job: model revision, data, template, loss mask, LoRA and hyperparameters, seed.',
    '',
    '```sh',
    'pip install "axolotl[deepspeed]"      # or: pip install trl peft accelerate datasets',
    `accelerate launch -m axolotl.cli.train ${AXOLOTL_FILE}`,
    `accelerate launch --num_processes 8 ${TRL_FILE}`,
    '```',
    '',
    `Loss mask \`${job.config.mask}\`: Axolotl ${m.exact.axolotl ? 'matches exactly' : 'approximates it'}, TRL ${m.exact.trl ? 'matches exactly' : 'approximates it'}.`,
    ...(m.note ? ['', m.note] : []),
    ...(job.evalFile ? [] : ['', 'The eval split is drawn by each tool from the training file, so its rows differ from TabTune\'s.']),
    '',
    'With more than one GPU the effective batch is batch size × gradient accumulation × GPUs; divide',
    'gradient_accumulation_steps by the GPU count to keep the same optimizer steps as in the tab.',
    '',
  ].join('\n');
}

/** Every file of the cluster bundle by path (text as strings, data files as bytes). */
export function clusterBundle(job: ClusterJob): Map<string, string | Uint8Array> {
  const files = new Map<string, string | Uint8Array>([
    [AXOLOTL_FILE, axolotlYaml(job)],
    [TRL_FILE, trlScript(job)],
    ['README.md', readme(job)],
  ]);
  const paths = dataPaths(job);
  if (paths.train && job.dataFile) files.set(paths.train, job.dataFile.bytes);
  if (paths.eval && job.evalFile) files.set(paths.eval, job.evalFile.bytes);
  return files;
}
