// Public surface of src/data: datasets, templates, tokenizer, masks, lint, naive comparisons, batches. Other layers
// (train, worker host, cli) import from here. This layer owns @huggingface/transformers and imports hub and share.
export type { Message, Role, Row, RowKind, CharSpan, TurnSpan } from './types.ts';
export { IGNORE_INDEX } from './types.ts';
export { loadTokenizer } from './tokenizer.ts';
export type { Tokenizer, TokenizerFiles, Offsets } from './tokenizer.ts';
export {
  ALPACA_TEMPLATE, BUILTIN_TEMPLATES, FROZEN_DATE, LLAMA2_CHAT_TEMPLATE, TemplateRenderError, compileTemplate, mustCompile,
  renderChat, strftime,
} from './template.ts';
export type { BuiltinTemplate, CompiledTemplate, RenderOptions, TemplateError } from './template.ts';
export { SpanError, renderWithSpans } from './spans.ts';
export type { RenderedChat } from './spans.ts';
export { POLICIES, PRESETS, computeLabels, countTargets, isMaskMode, unslothMarkers } from './masks.ts';
export type { MaskInput, MaskMode, Policy, Preset } from './masks.ts';
export { buildExample, buildExamples, rowMessages } from './example.ts';
export type { BuildResult, BuiltDataset, DropReason, Example, ExampleOptions } from './example.ts';
export { naiveComparisons, naiveLastAssistantToken, naivePromptLength } from './naive.ts';
export type { NaiveComparison, NaiveMethod } from './naive.ts';
export { lintDataset } from './lint.ts';
export type { LintCode, LintContext, LintWarning } from './lint.ts';
export { MAX_LINE_BYTES, detectFileFormat, parseFile } from './formats.ts';
export type { FileFormat, ParseIssue, ParsedFile, SourceRecord } from './formats.ts';
export { detectMapping, mapRecords } from './detect.ts';
export type { FieldMapping, MappedRows } from './detect.ts';
export { loadDataset, loadDatasetFiles, sha256 } from './dataset.ts';
export type { Dataset, LoadOptions } from './dataset.ts';
export { loadHubDataset, pickSplitFiles } from './hub-dataset.ts';
export type { HubDataset, HubDatasetOptions } from './hub-dataset.ts';
export { SAMPLE_DATASETS, loadSample, sampleById } from './samples.ts';
export type { SampleDataset } from './samples.ts';
export { batchRecord, collate, epochOrder, initialOrder, nextIndices, padIdFor } from './batch.ts';
export type { Batch, BatchRecord, CollateOptions, OrderState } from './batch.ts';
export { formatDebug } from './debug.ts';
export type { DebugOptions } from './debug.ts';
export { createRng, permutation, streamSeed } from './rng.ts';
export type { Rng } from './rng.ts';
