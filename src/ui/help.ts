// "What am I looking at": one paragraph per panel, shown by the panel's ? button. Keyed by the panel id (Panel's
// `id`), so a panel gets its help without importing anything; a panel with no entry shows no button.

export const PANEL_HELP: Readonly<Record<string, string>> = {
  model:
    'The checkpoint being fine-tuned: its architecture, size, tokenizer and the memory a run will need. Every file is ' +
    'pinned to a commit, so the same settings always load the same weights. Change it with a Hub repository or a ' +
    'local mirror; the bundled demo works offline.',
  data:
    'The rows the model learns from, after their fields are mapped to messages, prompt/completion or plain text. The ' +
    'summary shows how long the examples are in tokens, how they split into train and eval, and which rows were ' +
    'dropped and why.',
  template:
    'One example exactly as the model sees it: the chat template turns the row into text, the tokenizer cuts it into ' +
    'tokens, and the mask decides which tokens are trained (green: their label is their own id) and which only give ' +
    'context (grey: label −100, no loss). Pick a token to see its id, bytes and label. "What naive collators would ' +
    'train instead" shows where common shortcuts get the mask wrong.',
  batch:
    'One training step by hand, without updating the model: the padded tensors the step graph is fed, the loss of ' +
    'every trained token (darker red: the model found that token harder to predict), and how large the gradient is ' +
    'for each trainable LoRA matrix.',
  training:
    'The hyperparameters of the run and the controls that start, pause and stop it. Progress counts optimizer steps; ' +
    'target tokens per second counts only the tokens that carry a loss.',
  charts:
    'How the run is going, one point per optimizer step: training loss (thin: each step; thick: smoothed) with the ' +
    'loss on held-out eval examples, the gradient norm, and the learning-rate schedule. Loss falling on train but ' +
    'rising on eval means the adapter is memorising.',
  samples:
    'The same held-out prompts answered before training and every few steps, side by side, so you can watch the ' +
    'answers change. Samples that repeat themselves or come back empty are flagged.',
  checkpoints:
    'Runs saved in this browser: the adapter, the optimizer state and the data position at each checkpoint, so a ' +
    'run can be resumed after a reload. The storage line shows how much space they take.',
  share:
    'Everything needed to reproduce or reuse this run: a link that carries the settings (and small data), a zip of ' +
    'the whole run, the adapter in the PEFT layout other tools load, and a push to the Hub.',
  device:
    'What this browser offers for training: the WebGPU adapter and its limits, or the WebAssembly fallback on the CPU, ' +
    'and how many CPU threads it may use.',
};
