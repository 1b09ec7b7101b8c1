// The wording helper every count and article in TabTune's messages goes through (issue 17: "1 threads",
// "1 rows dropped", "got a undefined").
import { describe, expect, it } from 'vitest';
import { count, withArticle } from '../../src/share/wording';

describe('count', () => {
  it('uses the singular for exactly one and the plural otherwise, zero included', () => {
    expect(count(1, 'thread')).toBe('1 thread');
    expect(count(0, 'row')).toBe('0 rows');
    expect(count(2, 'row')).toBe('2 rows');
    expect(count(1.5, 'step')).toBe('1.5 steps');
  });

  it('groups thousands and takes an irregular plural', () => {
    expect(count(12345, 'example')).toBe('12,345 examples');
    expect(count(1, 'batch', 'batches')).toBe('1 batch');
    expect(count(3, 'batch', 'batches')).toBe('3 batches');
  });
});

describe('withArticle', () => {
  it('puts "an" before a vowel sound and "a" before a consonant sound', () => {
    expect(withArticle('object')).toBe('an object');
    expect(withArticle('undefined value')).toBe('an undefined value');
    expect(withArticle('instruction row')).toBe('an instruction row');
    expect(withArticle('list')).toBe('a list');
    expect(withArticle('string')).toBe('a string');
    expect(withArticle('number')).toBe('a number');
  });

  it('follows the sound, not the letter, for the exceptions messages meet', () => {
    expect(withArticle('user turn')).toBe('a user turn');
    expect(withArticle('UTF-8 file')).toBe('a UTF-8 file');
    expect(withArticle('one-off')).toBe('a one-off');
    expect(withArticle('hour')).toBe('an hour');
    expect(withArticle('LM head')).toBe('an LM head');
    expect(withArticle('SFT run')).toBe('an SFT run');
    expect(withArticle('safetensors file')).toBe('a safetensors file');
  });
});
