// Op constructors, named exactly as the ONNX ops they emit. Each takes the GraphBuilder first, checks dtypes, infers the
// static output shape (numpy broadcasting) and adds one node. Implementations live in ops/ by family.
export * from './ops/elementwise.ts';
export * from './ops/reduce.ts';
export * from './ops/layout.ts';
export * from './ops/einsum.ts';
export { ONNX_DTYPE,      } from './ops/common.ts';
