// loadDataset on JSON documents: a list of rows, or {"data": [...]} and the other wrappers.
import type { FuzzTarget } from '../target.ts';
import { ReportedProblems } from '../target.ts';
import { RECORDS, runDataset, text } from '../dataset-common.ts';

export default {
  name: 'dataset-json',
  seeds: () => RECORDS.flatMap((records, i) => [
    text(JSON.stringify(records, null, i % 2 ? 2 : 0)),
    text(JSON.stringify({ [['data', 'rows', 'train', 'examples'][i % 4] as string]: records })),
  ]),
  run: (input) => runDataset('data.json', input),
  rejects: [ReportedProblems],
} satisfies FuzzTarget;
