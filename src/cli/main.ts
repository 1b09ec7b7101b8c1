// `tabtune <command>`: dispatch, help, and error reporting. Every error reaches the user as one message on stderr
// with exit code 1 (set TABTUNE_DEBUG=1 for the stack). `runCli` takes its process as an argument so tests run
// commands in-process; bin/tabtune.mjs wires it to the real process, including Ctrl-C.
import { exportCommand, EXPORT_HELP } from './commands/export.ts';
import { generateCommand, GENERATE_HELP } from './commands/generate.ts';
import { inspectCommand, INSPECT_HELP } from './commands/inspect.ts';
import { lessonCommand, LESSON_HELP } from './commands/lesson.ts';
import { stepCommand, STEP_HELP } from './commands/step.ts';
import { trainCommand, TRAIN_HELP } from './commands/train.ts';
import type { CliIO } from './load.ts';
import { TABTUNE_VERSION } from '../train/state.ts';

export type { CliIO } from './load.ts';

const COMMANDS: Record<string, { run: (argv: readonly string[], io: CliIO) => Promise<number>; help: string }> = {
  inspect: { run: inspectCommand, help: INSPECT_HELP },
  step: { run: stepCommand, help: STEP_HELP },
  train: { run: trainCommand, help: TRAIN_HELP },
  generate: { run: generateCommand, help: GENERATE_HELP },
  export: { run: exportCommand, help: EXPORT_HELP },
  lesson: { run: lessonCommand, help: LESSON_HELP },
};

const USAGE = `tabtune ${TABTUNE_VERSION}: fine-tune Hugging Face causal LMs with LoRA (same code as the browser app)

Commands:
${Object.values(COMMANDS).map((c) => `  ${c.help.split('\n')[0]}`).join('\n')}

--model / --tokenizer take a local folder in Hugging Face layout or org/name[@revision] on the Hub
(--hub-endpoint URL or HF_ENDPOINT; HF_TOKEN for gated repos). Run \`tabtune <command> --help\` for details.
`;

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === '--version') {
    io.out(`${TABTUNE_VERSION}\n`);
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!entry) {
    io.err(`tabtune: unknown command "${command}". HINT: use one of ${Object.keys(COMMANDS).join(', ')}.\n`);
    return 1;
  }
  try {
    return await entry.run(rest, io);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    io.err(`tabtune ${command}: ${err.message}\n`);
    if (io.env['TABTUNE_DEBUG'] === '1' && err.stack) io.err(`${err.stack}\n`);
    return 1;
  }
}
