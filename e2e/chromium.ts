// Debian Chromium and the flags the e2e tests launch it with (docs/architecture.md): WebGPU on SwiftShader,
// nothing that talks to Google's servers. `WEBGPU_FLAGS` are the ones the fallback spec leaves out.
export const CHROMIUM_PATH = process.env.TABTUNE_CHROMIUM ?? '/usr/bin/chromium';

const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

export const BASE_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const CHROMIUM_ARGS = [...BASE_FLAGS, ...WEBGPU_FLAGS];
