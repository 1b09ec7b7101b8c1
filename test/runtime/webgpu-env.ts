// Whether this test process can open onnxruntime-node's WebGPU EP: it needs the Vulkan environment that
// scripts/with-swiftshader.mjs sets before the process starts (npm run test:unit goes through it).
export const webgpuAvailable = process.env.TABTUNE_SWIFTSHADER === '1' || process.env.VK_ICD_FILENAMES !== undefined;
export const WEBGPU_SKIP_REASON = 'skipped: start vitest through `node scripts/with-swiftshader.mjs` for WebGPU';
