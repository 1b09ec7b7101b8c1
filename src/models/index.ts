// Public surface of src/models (imports only src/engine): config parsing, weight tables, forward graphs, LoRA,
// generation graphs and the host loop, sampling, the memory bill and the seeded generator.
export { CONFIG_LIMITS, ModelConfigError, SUPPORTED_MODEL_TYPES, UnsupportedModelError, parseModelConfig, ropeInvFreq } from './config.ts';
export type { Gemma3Config, Gpt2Config, GraniteConfig, LlamaFamilyConfig, ModelConfig, Olmo2Config, RopeConfig } from './config.ts';
export { CheckpointMismatchError, parameterCount, resolveCheckpoint, weightTable } from './weights.ts';
export type { CheckpointMapping, WeightSpec } from './weights.ts';
export { buildForward, defaultPositionIds, headOf } from './forward.ts';
export { modelDropoutSpecs } from './gpt2.ts';
export type { DropoutSpec } from './gpt2.ts';
export type { CacheBinding, ForwardGraph, ForwardOptions } from './layers.ts';
export {
  dropoutMask, initLoraWeights, linearModules, loraDropoutInputName, loraShapes, planLora,
  selectFullTensors, trainableSummary,
} from './lora.ts';
export type { LoraConfig, LoraPlan, LoraTarget, TensorGroup, TrainableSummary } from './lora.ts';
export { buildGenerationGraphs, generate, stopTokenIds } from './generate.ts';
export type { DecodeFeeds, GenerateOptions, GenerationGraphs, GenerationIO, GenerationShape, PrefillFeeds } from './generate.ts';
export { GREEDY, chooseToken, parseGenerationConfig } from './sampling.ts';
export type { GenerationDefaults, SamplingOptions } from './sampling.ts';
export { checkTokenizerFits, logitsChunkRows, memoryBill } from './memory.ts';
export type { MemoryBill } from './memory.ts';
export { Rng } from './rng.ts';
export type { RngState } from './rng.ts';
