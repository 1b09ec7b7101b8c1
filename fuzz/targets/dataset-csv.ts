// loadDataset on CSV/TSV (papaparse with a header row).
import type { FuzzTarget } from '../target.ts';
import { ReportedProblems } from '../target.ts';
import { runDataset, text } from '../dataset-common.ts';

export default {
  name: 'dataset-csv',
  seeds: () => [
    text('prompt,completion\n"What is 2+2?"," 4"\n"Say ""hi""", hi\n'),
    text('instruction,input,output\nTranslate,chat,cat\nSum,,3\r\n'),
    text('text\n"multi\nline, quoted"\nplain\n'),
    text('\ufefftext,n\nfirst,1\nsecond,2\n'),
    text('prompt\tcompletion\nq\ta\n'),
    text('constructor,toString\n1,2\n'),
  ],
  run: (input) => runDataset('data.csv', input),
  rejects: [ReportedProblems],
} satisfies FuzzTarget;
