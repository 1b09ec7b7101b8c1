import { describe, expect, it } from 'vitest';
import { defaultRunConfig, parseRunConfig } from '../../src/share/run-config';

describe('run config', () => {
  it('fills every default from a minimal config', () => {
    const cfg = parseRunConfig({ model: { repo: 'org/name' }, data: { source: 'bundled', name: 'x' } });
    expect(cfg.model.revision).toBe('main');
    expect(cfg.mask).toBe('assistant');
    expect(cfg.lora.r).toBe(8);
    expect(cfg.train.gradAccum).toBe(1);
    expect(cfg.seed).toBe(42);
  });

  it('names every invalid field in one message', () => {
    expect(() =>
      parseRunConfig({ model: { repo: 'no-slash' }, data: { source: 'bundled', name: 'x' }, lora: { r: 0 } }),
    ).toThrow(/model\.repo: expected "org\/name"[\s\S]*lora\.r/);
  });

  it('rejects an unknown data source and an oversized inline upload', () => {
    expect(() => parseRunConfig({ model: { repo: 'a/b' }, data: { source: 'ftp', name: 'x' } })).toThrow(/data/);
    expect(() =>
      parseRunConfig({ model: { repo: 'a/b' }, data: { source: 'upload', name: 'x', hash: 'h', inline: 'a'.repeat(70_000) } }),
    ).toThrow(/data\.inline/);
  });

  it('opens on the bundled demo', () => {
    expect(defaultRunConfig().model.repo).toBe('tabtune/tiny-storyteller');
  });
});
