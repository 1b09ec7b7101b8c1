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
  it('lets the CLI and the worker host import types from data, models and hub, and values from train', async () => {
    expect(await problems('src/cli/probe.ts', "import type { Example } from '../data/example';\nexport type E = Example;\n")).toEqual([]);
    expect(await problems('src/worker/host/probe.ts', "import type { ModelConfig } from '../../models/config';\nexport type M = ModelConfig;\n")).toEqual([]);
    expect(await problems('src/cli/probe.ts', "import { RunSession } from '../train/session';\nexport const S = RunSession;\n")).toEqual([]);
  });

  it('lets models import engine', async () => {
    expect(await problems('src/models/probe.ts', "import type { Value } from '../engine/ir';\nexport type V = Value;\n")).toEqual([]);
  });

  it.each([
    ['engine → models', 'src/engine/probe.ts', "import { parseModelConfig } from '../models/config';\nexport const f = parseModelConfig;\n"],
    ['models → runtime', 'src/models/probe.ts', "import * as b from '../runtime/backend';\nexport const f = b;\n"],
    ['ui → engine', 'src/ui/probe.ts', "import type { Value } from '../engine/ir';\nexport type V = Value;\n"],
    ['store → worker host', 'src/store/probe.ts', "import * as w from '../worker/host/probe';\nexport const f = w;\n"],
    ['worker client → worker host', 'src/worker/probe.ts', "import * as w from './host/probe';\nexport const f = w;\n"],
    // Front ends drive src/train's RunSession; they may not orchestrate a run from data, models or hub themselves.
    ['cli → data (a value)', 'src/cli/probe.ts', "import { buildExamples } from '../data/example';\nexport const f = buildExamples;\n"],
    ['cli → models (a value)', 'src/cli/probe.ts', "import { planLora } from '../models/lora';\nexport const f = planLora;\n"],
    ['worker host → hub (a value)', 'src/worker/host/probe.ts', "import { resolveRevision } from '../../hub/index';\nexport const f = resolveRevision;\n"],
    ['worker host → data (a value)', 'src/worker/host/probe.ts', "import { lintDataset } from '../../data/lint';\nexport const f = lintDataset;\n"],
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
