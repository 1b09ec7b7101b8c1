// Public surface of src/train, the training glue shared by the browser worker and the CLI. Other layers import from
// here. Nothing in src/train imports node: modules; file access comes in through FileSource.
export { hubSource, loadModel, loadTokenizerFrom, TOKENIZER_FILES } from './model-source.ts';
export type { FileSource, LoadedModel, TokenizerBundle } from './model-source.ts';
export { collate, DataOrder, paddingId, prepareDataset, resolveTemplate, sequenceLength, splitExamples } from './dataset.ts';
export type { DataCursor, DatasetOptions, PreparedDataset, TemplateChoice } from './dataset.ts';
export { buildTrainGraphs, frozenTensors, withDropoutMasks } from './graphs.ts';
export type { GraphShape } from './graphs.ts';
export { Generator } from './generation.ts';
export type { GenerateRequest } from './generation.ts';
export { Trainer } from './trainer.ts';
export type { EvalRecord, RunCallbacks, RunResult, SampleRecord, SampleSpec, StepRecord, StopFlag, StopReason, TrainerInit } from './trainer.ts';
export {
  ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapterConfig, adapterFiles, adapterSafetensors, defaultTargetModules, loadAdapter, mergeAdapter, modelCard,
  targetModuleNames,
} from './peft.ts';
export type { AdapterMeta, LoadedAdapter, ModelCardInfo } from './peft.ts';
export {
  CHECKPOINT_STATE, CHECKPOINT_TENSORS, checkpointFiles, manifestJson, parseCheckpoint, TABTUNE_VERSION, trainerStateJson,
} from './state.ts';
export type { LogEntry, ManifestInput, TrainerCheckpoint, TrainerStateInfo } from './state.ts';
export { sortedJson } from './json.ts';
export { ACTIVATION_NOTE, formatBytes, formatMemoryPlan, planMemory, WASM_BUDGET_BYTES } from './memory-plan.ts';
export type { MemoryBillDetail, MemoryLimits, MemoryPlan, MemoryProblem, MemoryRun } from './memory-plan.ts';
