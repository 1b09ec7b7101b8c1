// loadDataset on JSONL bytes (the upload path and the CLI's --data), every layout.
import type { FuzzTarget } from '../target.ts';
import { ReportedProblems } from '../target.ts';
import { RECORDS, runDataset, text } from '../dataset-common.ts';

export default {
  name: 'dataset-jsonl',
  seeds: () => RECORDS.map((records) => text(records.map((r) => JSON.stringify(r)).join('\n') + '\n')),
  run: (input) => runDataset('data.jsonl', input),
  rejects: [ReportedProblems],
} satisfies FuzzTarget;
