// The runtime surface shared by the browser worker and Node: backend types and TrainSession. Backends themselves come
// from './web.ts' (browser worker: onnxruntime-web/webgpu) or './node.ts' (CLI, tests); neither is imported here, so
// a browser bundle that imports this file never pulls in onnxruntime-node.
export type { Backend,          } from './backend.ts';
;
;
;
;
