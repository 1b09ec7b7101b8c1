// Software WebGPU adapters default to WASM: the names browsers report for SwiftShader and other CPU renderers, and
// GPUAdapterInfo.isFallbackAdapter, are recognised; hardware adapters are not.
import { describe, expect, it } from 'vitest';
import { softwareAdapterName, softwareAdapterNote } from '../../src/runtime/adapter.ts';

describe('softwareAdapterName', () => {
  it('recognises SwiftShader as Chromium reports it, and other software renderers', () => {
    // What Chromium 156 reports for --use-webgpu-adapter=swiftshader (e2e/shell.spec.ts reads the same).
    expect(softwareAdapterName({ vendor: 'google', architecture: 'swiftshader', device: '', description: '' })).toBe('SwiftShader');
    expect(softwareAdapterName({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 19.1.7, 256 bits)' })).toBe('llvmpipe');
    expect(softwareAdapterName({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe('Microsoft Basic Render');
  });

  it('trusts isFallbackAdapter even when the names say nothing', () => {
    expect(softwareAdapterName({ vendor: 'apple', architecture: 'metal-3', isFallbackAdapter: true })).toBe('a fallback adapter');
  });

  it('leaves hardware adapters alone', () => {
    expect(softwareAdapterName({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100', isFallbackAdapter: false })).toBeNull();
    expect(softwareAdapterName({ vendor: 'intel', architecture: 'gen-12lp' })).toBeNull();
    expect(softwareAdapterNote({ vendor: 'amd', architecture: 'rdna-3' })).toBeNull();
  });

  it('explains the choice in one line, naming the renderer and how to override it', () => {
    const note = softwareAdapterNote({ vendor: 'google', architecture: 'swiftshader' })!;
    expect(note).not.toContain('\n');
    expect(note).toMatch(/software renderer \(SwiftShader\).*runs on WASM.*pick WebGPU/);
  });
});
