// Sample prompts in the Samples panel: shown without BOS and chat markers unless asked for.
import { describe, expect, it } from 'vitest';
import { readablePrompt } from '../../src/ui/panels/SamplesPanel';

describe('readablePrompt', () => {
  it('drops BOS and the markers of ChatML, Llama 3 and Gemma prompts, keeping roles and text apart', () => {
    expect(readablePrompt('<|im_start|>user\nWhat is the codeword for red?<|im_end|>\n<|im_start|>assistant\n', ['<|endoftext|>', '<|im_end|>', null]))
      .toBe('user\nWhat is the codeword for red?\n\nassistant');
    expect(readablePrompt('<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n', ['<|begin_of_text|>', '<|eot_id|>', null]))
      .toBe('user\n\nHi?\nassistant');
    expect(readablePrompt('<bos><start_of_turn>user\nHi?<end_of_turn>\n<start_of_turn>model\n', ['<bos>', '<eos>', '<pad>'])).toBe('user\nHi?\n\nmodel');
    expect(readablePrompt('<s>Boiling point of water?\n### Answer:\n', ['<s>', '</s>', null])).toBe('Boiling point of water?\n### Answer:');
  });

  it('leaves text that merely looks like markup alone', () => {
    expect(readablePrompt('Is <b>bold</b> an injection? a | b', [null, null, null])).toBe('Is <b>bold</b> an injection? a | b');
  });
});
