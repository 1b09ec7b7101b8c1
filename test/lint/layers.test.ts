// The layer direction of docs/architecture.md is enforced by `npm run lint`. These cases lint small probe sources as if
// they lived at a path inside src/, with the project's real eslint.config.js, and check what is allowed and refused.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('layer rules', () => {
  it('lets models import engine', async () => {
    expect(await problems('src/models/probe.ts', "import type { Value } from '../engine/ir';\nexport type V = Value;\n")).toEqual([]);
  });

  it.each([
    ['engine → models', 'src/engine/probe.ts', "import { parseModelConfig } from '../models/config';\nexport const f = parseModelConfig;\n"],
    ['models → runtime', 'src/models/probe.ts', "import * as b from '../runtime/backend';\nexport const f = b;\n"],
    ['ui → engine', 'src/ui/probe.ts', "import type { Value } from '../engine/ir';\nexport type V = Value;\n"],
    ['store → worker host', 'src/store/probe.ts', "import * as w from '../worker/host/probe';\nexport const f = w;\n"],
    ['worker client → worker host', 'src/worker/probe.ts', "import * as w from './host/probe';\nexport const f = w;\n"],
  ])('refuses %s', async (_name, file, code) => {
    const found = await problems(file, code);
    expect(found.some((p) => p.startsWith('boundaries/dependencies'))).toBe(true);
  });

  it.each([
    ['onnxruntime-web outside runtime', 'src/engine/probe.ts', "import * as ort from 'onnxruntime-web';\nexport const o = ort;\n"],
    ['idb outside storage', 'src/train/probe.ts', "import { openDB } from 'idb';\nexport const o = openDB;\n"],
    ['transformers outside data', 'src/models/probe.ts', "import * as t from '@huggingface/transformers';\nexport const o = t;\n"],
    ['react in the engine', 'src/engine/probe.ts', "import { useState } from 'react';\nexport const o = useState;\n"],
  ])('refuses %s', async (_name, file, code) => {
    const found = await problems(file, code);
    expect(found.some((p) => p.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('lets runtime import onnxruntime-web', async () => {
    expect(await problems('src/runtime/probe.ts', "import * as ort from 'onnxruntime-web';\nexport const o = ort;\n")).toEqual([]);
  });
});
