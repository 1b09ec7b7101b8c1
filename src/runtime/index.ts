// The runtime surface shared by the browser worker and Node: backend types and TrainSession. Backends themselves come
// from './web.ts' (browser worker: onnxruntime-web/webgpu) or './node.ts' (CLI, tests); neither is imported here, so
// a browser bundle that imports this file never pulls in onnxruntime-node.
export type { Backend, BackendHost, BackendKind, DeviceOps, HostTensor, OrtTensor, RuntimeSession, SessionConfig, TensorData, TensorDType } from './backend.ts';
export { sessionOptions } from './backend.ts';
export { softwareAdapterName, softwareAdapterNote, type AdapterIdentity } from './adapter.ts';
export type { Batch, EvalResult, StepMetrics, TrainSessionInit, TrainState } from './train-session.ts';
export { TrainSession } from './train-session.ts';
