// Public surface of src/train, the training glue shared by the browser worker and the CLI. Other layers import from
// here. Nothing in src/train imports node: modules; file access comes in through FileSource.
export { hubSource, loadModel, loadTokenizerFrom,  } from './model-source.ts';
;
export {   paddingId,     } from './dataset.ts';
;
export { buildTrainGraphs, frozenTensors,  } from './graphs.ts';
;
;
;
;
;
;
;
;
;
;
export {   formatMemoryPlan, planMemory,  } from './memory-plan.ts';
export type {     MemoryRun } from './memory-plan.ts';
