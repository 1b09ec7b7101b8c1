// The chat-template presets a run can pick instead of the tokenizer's own: ChatML, Llama 3, Gemma, Alpaca and a plain
// prompt/completion layout with a visible separator. Plain data (Jinja source strings) so the run config, share
// links, the template editor and src/data all name the same text; they are rendered only by src/data's budgeted
// interpreter. Each writes its turn-end token right after the content, so assistant masks train content + end of turn
// (sft-conventions §9), and none trims content (spans stay exact, §10).

/** `chat` is the tokenizer's own template; `custom` is an edited source carried in the run config. */
export const TEMPLATE_KINDS = ['chat', 'chatml', 'llama3', 'gemma', 'alpaca', 'plain', 'custom'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];
export type PresetKind = Exclude<TemplateKind, 'chat' | 'custom'>;

/** The separator the plain prompt/completion template writes between prompt and completion. */
export const PLAIN_SEPARATOR = '\n### Answer:\n';

const CHATML = `{%- for message in messages -%}
{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{ '<|im_start|>assistant\\n' }}
{%- endif -%}`;

const LLAMA3 = `{{- bos_token -}}
{%- for message in messages -%}
{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif -%}`;

const GEMMA = `{{- bos_token -}}
{%- if messages[0]['role'] == 'system' -%}
{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}
{%- set loop_messages = messages[1:] -%}
{%- else -%}
{%- set first_user_prefix = '' -%}
{%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
{%- if message['role'] == 'assistant' -%}
{{ '<start_of_turn>model\\n' + message['content'] + '<end_of_turn>\\n' }}
{%- else -%}
{{ '<start_of_turn>' + message['role'] + '\\n' + (first_user_prefix if loop.first else '') + message['content'] + '<end_of_turn>\\n' }}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{ '<start_of_turn>model\\n' }}
{%- endif -%}`;

/** Alpaca (Stanford) prompt format. */
const ALPACA = `{%- if messages[0]['role'] == 'system' -%}
{{ messages[0]['content'] + '\\n\\n' }}
{%- set loop_messages = messages[1:] -%}
{%- else -%}
{{ 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\\n\\n' }}
{%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
{%- if message['role'] == 'user' -%}
{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}
{%- elif message['role'] == 'assistant' -%}
{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}
{%- else -%}
{{ raise_exception('Alpaca has only system, user and assistant turns, got ' + message['role']) }}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{ '### Response:\\n' }}
{%- endif -%}`;

/** BOS, prompt, a visible separator, completion, EOS: no chat markup, for base models and prompt/completion data. */
const PLAIN = `{{- bos_token -}}
{%- for message in messages -%}
{%- if message['role'] == 'assistant' -%}
{{ '${PLAIN_SEPARATOR.replace(/\n/g, '\\n')}' + message['content'] + eos_token }}
{%- else -%}
{{ ('\\n\\n' if not loop.first else '') + message['content'] }}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{ '${PLAIN_SEPARATOR.replace(/\n/g, '\\n')}' }}
{%- endif -%}`;

export const PRESET_SOURCES: Readonly<Record<PresetKind, string>> = {
  chatml: CHATML,
  llama3: LLAMA3,
  gemma: GEMMA,
  alpaca: ALPACA,
  plain: PLAIN,
};

export const TEMPLATE_TITLES: Readonly<Record<TemplateKind, string>> = {
  chat: "The model's own template (tokenizer_config.json)",
  chatml: 'ChatML (<|im_start|> … <|im_end|>; Qwen, SmolLM)',
  llama3: 'Llama 3 (<|start_header_id|> … <|eot_id|>)',
  gemma: 'Gemma (<start_of_turn> … <end_of_turn>)',
  alpaca: 'Alpaca (### Instruction / ### Response)',
  plain: 'Plain prompt/completion with a visible separator',
  custom: 'Edited template',
};
