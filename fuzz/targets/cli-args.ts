// The command line (src/cli): dispatch of `tabtune <command>` and every flag a command takes, through the same
// parse and validation the commands use (parseFlags, runConfigFromFlags, templateFlag, fileFormat, num). Commands
// are not run (they would load models); an input is one argument per line.
import { runCli, type CliIO } from '../../src/cli/main.ts';
import { DATA_FLAGS, fileFormat, HUB_FLAGS, LORA_FLAGS, MEMORY_FLAGS, num, parseFlags, runConfigFromFlags, templateFlag, TRAIN_FLAGS } from '../../src/cli/args.ts';
import { CliError } from '../../src/cli/errors.ts';
import { RAW_ENGINE_MESSAGE } from '../judge.ts';
import type { FuzzTarget } from '../target.ts';

const utf8 = new TextEncoder();
const lenient = new TextDecoder();
const COMMANDS = new Set(['inspect', 'step', 'train', 'generate', 'export']);
const s = { type: 'string' } as const;
const FLAGS = {
  ...HUB_FLAGS, ...DATA_FLAGS, ...LORA_FLAGS, ...MEMORY_FLAGS, ...TRAIN_FLAGS,
  model: s, tokenizer: s, out: s, adapter: s, merged: s, prompt: s, messages: s, limit: s, json: s, 'no-color': { type: 'boolean' },
} as const;

const SEEDS = [
  ['train', '--model', 'org/model@main', '--data', 'data.jsonl', '--steps', '10', '--lr', '2e-4', '--lora-r', '8', '--lora-targets', 'q_proj,v_proj'],
  ['train', '--model', './local', '--data', 'x.csv', '--format', 'csv', '--template', 'alpaca', '--mask', 'completion', '--max-length', '512', '--seed', '7', '--schedule', 'cosine', '--warmup', '3'],
  ['inspect', '--tokenizer', 'org/tok', '--data', 'd.parquet', '--template', 'my.jinja', '--limit', '5'],
  ['step', '--model', 'm', '--batch-size', '4', '--grad-accum', '2', '--eval-fraction', '0.2', '--lora-dropout', '0.05', '--lora-rslora'],
  ['export', '--model', 'm', '--adapter', 'a', '--merged', 'out'],
  ['--help'], ['--version'], ['help'], ['toString'], ['train', '--help'],
];

function io(err: string[]): CliIO {
  return { cwd: '/nonexistent', env: {}, out: () => undefined, err: (t) => void err.push(t), isTTY: false, signal: { aborted: false } };
}

export default {
  name: 'cli-args',
  seeds: () => SEEDS.map((argv) => utf8.encode(argv.join('\n'))),
  async run(input) {
    const argv = lenient.decode(input).split('\n').slice(0, 256);
    const [command = '', ...rest] = argv;
    if (!COMMANDS.has(command)) {
      // Dispatch only: unknown commands, help and version never reach a command.
      const err: string[] = [];
      const code = await runCli(argv, io(err));
      const text = err.join('');
      if (RAW_ENGINE_MESSAGE.test(text)) throw new Error(`raw engine message on stderr: ${text.slice(0, 300)}`);
      if (code !== 0) throw new CliError(text || `exit code ${code}`);
      return;
    }
    const v = parseFlags(command, rest, FLAGS);
    fileFormat(v);
    templateFlag(v);
    num(v, 'max-buffer-bytes', { int: true, min: 1 });
    num(v, 'memory-budget', { min: 0 });
    num(v, 'limit', { int: true, min: 1 });
    runConfigFromFlags(v, { modelRepo: 'org/model', modelRevision: 'main', modelSha: null, dataName: 'data.jsonl', dataHash: `sha256:${'0'.repeat(64)}`, templateSource: '{{ messages }}' });
  },
  rejects: [CliError],
} satisfies FuzzTarget;
