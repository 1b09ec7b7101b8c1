// What the Axolotl and TRL exports share: the job description, how each TabTune mask policy maps onto each tool
// (and whether that mapping is exact), scheduler names, the effective chat template and the data paths.
import type { MaskPolicy, RunConfig } from './run-config.ts';

/** Row shapes of the exported data file (TabTune writes the rows it trained on, already normalised). */
export type ClusterDataFormat = 'messages' | 'prompt-completion' | 'text';

export interface ClusterJob {
  config: RunConfig;
  /** The rows TabTune trained on, as JSONL; required unless the data is a pinned Hub dataset. */
  dataFile?: { name: string; bytes: Uint8Array };
  /** The evaluation rows TabTune held out; with it both tools evaluate on exactly the same rows. */
  evalFile?: { name: string; bytes: Uint8Array };
  dataFormat: ClusterDataFormat;
  /** The Jinja chat template TabTune rendered with. Needed for `alpaca`/`custom` templates and template kwargs;
   * for `chat` without kwargs both tools use the tokenizer's own template. */
  templateSource?: string;
}

export interface MaskMapping {
  axolotl: { roles_to_train?: string[]; train_on_eos?: 'turn' | 'last' | 'all' | 'none'; train_on_inputs?: boolean };
  trl: { assistant_only_loss: boolean; completion_only_loss: boolean | null };
  /** Whether each tool then trains exactly the tokens TabTune trained. */
  exact: { axolotl: boolean; trl: boolean };
  note?: string;
}

/** How each mask policy (sft-conventions §9) is expressed in each tool. */
export function maskMapping(policy: MaskPolicy, format: ClusterDataFormat): MaskMapping {
  if (format === 'text' || policy === 'all') {
    return {
      axolotl: { train_on_inputs: true, roles_to_train: ['system', 'user', 'assistant'], train_on_eos: 'all' },
      trl: { assistant_only_loss: false, completion_only_loss: false },
      exact: { axolotl: true, trl: true },
    };
  }
  if (format === 'prompt-completion' || policy === 'completion') {
    return {
      axolotl: { train_on_inputs: false },
      trl: { assistant_only_loss: false, completion_only_loss: true },
      exact: { axolotl: true, trl: true },
    };
  }
  const assistantTurns = { roles_to_train: ['assistant'], train_on_eos: 'turn' as const };
  switch (policy) {
    case 'axolotl':
      return { axolotl: assistantTurns, trl: { assistant_only_loss: true, completion_only_loss: null }, exact: { axolotl: true, trl: false },
        note: 'TRL trains the {% generation %} span, which differs from Axolotl\'s turn diff at the turn edges (sft-conventions §9).' };
    case 'trl':
      return { axolotl: assistantTurns, trl: { assistant_only_loss: true, completion_only_loss: null }, exact: { axolotl: false, trl: true },
        note: 'Axolotl trains the turn content plus its end-of-turn token found by diffing; TRL\'s span may include a leading newline.' };
    case 'unsloth':
      return { axolotl: assistantTurns, trl: { assistant_only_loss: true, completion_only_loss: null }, exact: { axolotl: false, trl: false },
        note: 'Unsloth\'s train_on_responses_only also trains system/tool turns between a response and the next user turn; neither tool does.' };
    case 'assistant-no-eot':
      return { axolotl: { roles_to_train: ['assistant'], train_on_eos: 'none' }, trl: { assistant_only_loss: true, completion_only_loss: null }, exact: { axolotl: true, trl: false },
        note: 'TabTune left the end-of-turn token out of the loss (Axolotl train_on_eos: none); TRL always trains it.' };
    case 'last-assistant':
      return { axolotl: { roles_to_train: ['assistant'], train_on_eos: 'last' }, trl: { assistant_only_loss: true, completion_only_loss: null }, exact: { axolotl: false, trl: false },
        note: 'Only the last assistant turn was trained in TabTune; both tools train every assistant turn. Split multi-turn rows to match.' };
    default:
      return { axolotl: assistantTurns, trl: { assistant_only_loss: true, completion_only_loss: null }, exact: { axolotl: true, trl: true } };
  }
}

/** transformers' `lr_scheduler_type` for a TabTune schedule (warmup is a separate `warmup_steps` in both tools). */
export function hfScheduler(config: RunConfig): string {
  if (config.train.schedule === 'constant') return config.train.warmupSteps > 0 ? 'constant_with_warmup' : 'constant';
  return config.train.schedule;
}

/** The template both tools should render with: the source, with template kwargs bound by `{% set %}` in front so
 * they apply whatever the tool passes to apply_chat_template. undefined = the tokenizer's own template. */
export function effectiveTemplate(job: ClusterJob): string | undefined {
  const { kind, source, kwargs } = job.config.template;
  const text = kind === 'custom' ? source ?? job.templateSource : job.templateSource;
  const bindings = Object.entries(kwargs);
  if (kind !== 'chat' && !text) throw new Error(`The ${kind} template's Jinja source is needed to export this run for a cluster; pass templateSource.`);
  if (bindings.length && !text) throw new Error('Template kwargs are set, so the chat template source is needed to export this run; pass templateSource.');
  if (!text) return undefined;
  const prefix = bindings
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => {
      if (!/^[A-Za-z_]\w*$/.test(k)) throw new Error(`Template kwarg "${k}" is not a valid Jinja variable name.`);
      return `{%- set ${k} = ${typeof v === 'boolean' ? (v ? 'true' : 'false') : JSON.stringify(v)} -%}\n`;
    })
    .join('');
  return prefix + text;
}

const DATA_DIR = 'data';
export const AXOLOTL_FILE = 'axolotl.yaml';
export const TRL_FILE = 'train_sft.py';

/** Where the data is, for both tools. */
export function dataPaths(job: ClusterJob): { train?: string; eval?: string } {
  const { data } = job.config;
  if (!job.dataFile && data.source !== 'hub') {
    throw new Error(`The ${data.source} dataset's rows are needed to export this run for a cluster; pass dataFile.`);
  }
  const safe = (n: string) => n.replace(/[^\w.-]/g, '_');
  return {
    ...(job.dataFile ? { train: `${DATA_DIR}/${safe(job.dataFile.name)}` } : {}),
    ...(job.evalFile ? { eval: `${DATA_DIR}/${safe(job.evalFile.name)}` } : {}),
  };
}

