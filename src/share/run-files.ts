// Text files inside an exported run, with strict readers: metrics.csv (one row per logged step), samples.jsonl (one
// generated sample per line), and a structural check of safetensors headers so a zip import can reject a broken
// adapter before any tensor is read (the full reader lives in src/hub, which share may not import).
import { metricPointSchema, sampleRecordSchema, type MetricPoint, type SampleRecord } from './manifest.ts';
import { utf8 } from './codec.ts';

/** CSV columns, in order; the names match transformers' log keys where one exists. */
const METRIC_COLUMNS = [
  ['step', 'step'], ['train_loss', 'trainLoss'], ['eval_loss', 'evalLoss'], ['learning_rate', 'learningRate'],
  ['grad_norm', 'gradNorm'], ['tokens_per_second', 'tokensPerSecond'],
] as const satisfies readonly (readonly [string, keyof MetricPoint])[];

/** metrics.csv: a header line, then one line per point; an empty cell means "not measured at that step". Numbers
 * are written with JS's shortest round-trip form, so reading the file back gives the same doubles. */
export function metricsCsv(points: readonly MetricPoint[]): string {
  const lines = [METRIC_COLUMNS.map(([col]) => col).join(',')];
  for (const p of points) lines.push(METRIC_COLUMNS.map(([, key]) => (p[key] === undefined ? '' : String(p[key]))).join(','));
  return `${lines.join('\n')}\n`;
}

export function parseMetricsCsv(text: string, where = 'metrics.csv'): MetricPoint[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines.shift();
  const expected = METRIC_COLUMNS.map(([col]) => col).join(',');
  if (header !== expected) throw new Error(`${where}: the header must be "${expected}", found "${(header ?? '').slice(0, 100)}"`);
  return lines.map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== METRIC_COLUMNS.length) throw new Error(`${where} line ${i + 2}: expected ${METRIC_COLUMNS.length} cells, found ${cells.length}`);
    const point: Record<string, number> = {};
    METRIC_COLUMNS.forEach(([col, key], c) => {
      const cell = cells[c]!.trim();
      if (cell === '') return;
      const value = Number(cell);
      // String(x) round-trips every double, including NaN and ±Infinity from a diverged run.
      if (Number.isNaN(value) && cell !== 'NaN') {
        throw new Error(`${where} line ${i + 2}: ${col} "${cell.slice(0, 30)}" is not a number`);
      }
      point[key] = value;
    });
    const parsed = metricPointSchema.safeParse(point);
    if (!parsed.success) throw new Error(`${where} line ${i + 2}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    return parsed.data;
  });
}

export function samplesJsonl(samples: readonly SampleRecord[]): string {
  return samples.map((s) => JSON.stringify({ step: s.step, prompt: s.prompt, completion: s.completion, flags: s.flags })).join('\n') + (samples.length ? '\n' : '');
}

export function parseSamplesJsonl(text: string, where = 'samples.jsonl'): SampleRecord[] {
  return text.split(/\r?\n/).flatMap((line, i) => {
    if (line.trim() === '') return [];
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where} line ${i + 1} is not valid JSON`, { cause: e });
    }
    const parsed = sampleRecordSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${where} line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}`);
    return [parsed.data];
  });
}

/** Structural safetensors check (sft-conventions §19–20): length prefix, a JSON object header inside the file,
 * and entries whose byte ranges lie inside the data buffer. Returns the tensor names. */
export function checkSafetensors(bytes: Uint8Array, where: string): string[] {
  if (bytes.length < 8) throw new Error(`${where} is too short to be a safetensors file (${bytes.length} bytes)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8) || n > 100_000_000n) throw new Error(`${where}: the header length ${n} runs past the end of the file; the file is truncated or not safetensors`);
  const headerBytes = bytes.subarray(8, 8 + Number(n));
  if (headerBytes[0] !== 0x7b) throw new Error(`${where}: the header does not start with "{"; this is not a safetensors file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(utf8.decode(headerBytes, where)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}: the header is not valid JSON`, { cause: e });
  }
  const dataLength = bytes.length - 8 - Number(n);
  const names: string[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const offsets = (entry as { data_offsets?: unknown } | null)?.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o)) || offsets[0] > offsets[1] || offsets[1] > dataLength) {
      const shown = Array.isArray(offsets) && offsets.length <= 4 && offsets.every((o) => typeof o === 'number') ? `[${offsets.join(', ')}]` : 'not two byte offsets';
      throw new Error(`${where}: tensor ${name.length > 120 ? `${name.slice(0, 120)}…` : name} has byte range ${shown} outside the ${dataLength}-byte data buffer`);
    }
    names.push(name);
  }
  return names;
}
