#!/usr/bin/env node
// Runs a command with the environment onnxruntime-node's WebGPU EP needs on a GPU-less Linux box: Debian Chromium's
// SwiftShader Vulkan driver and its libvulkan. The loader reads LD_LIBRARY_PATH only at process start, hence a launcher.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const dir = process.env.TABTUNE_SWIFTSHADER_DIR ?? '/usr/lib/chromium';
const env = { ...process.env };
if (existsSync(`${dir}/vk_swiftshader_icd.json`) && !env.VK_ICD_FILENAMES) {
  env.VK_ICD_FILENAMES = `${dir}/vk_swiftshader_icd.json`;
  env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${dir}:${env.LD_LIBRARY_PATH}` : dir;
  env.TABTUNE_SWIFTSHADER = '1';
}
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/with-swiftshader.mjs <command> [args...]');
  process.exit(2);
}
const child = spawn(cmd, args, { env, stdio: 'inherit', shell: process.platform === 'win32' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
