// loadDataset on Parquet (hyparquet + hyparquet-compressors): files written by hyparquet-writer with several column
// types, codecs and row groups, then mutated byte by byte.
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { FuzzTarget } from '../target.ts';
import { ReportedProblems } from '../target.ts';
import { runDataset } from '../dataset-common.ts';

const write = (options: Parameters<typeof parquetWriteBuffer>[0]) => new Uint8Array(parquetWriteBuffer(options));

export default {
  name: 'dataset-parquet',
  seeds: () => [
    write({ columnData: [{ name: 'text', data: ['first doc', 'second doc', 'third'], type: 'STRING' }, { name: 'n', data: [1, 2, 3], type: 'INT32' }] }),
    write({ columnData: [{ name: 'prompt', data: ['q1', 'q2'], type: 'STRING' }, { name: 'completion', data: [' a1', ' a2'], type: 'STRING' }], codec: 'UNCOMPRESSED' }),
    write({ columnData: [{ name: 'instruction', data: ['i', 'j', 'k', 'l'], type: 'STRING' }, { name: 'output', data: ['o', 'p', 'q', 'r'], type: 'STRING' }, { name: 'score', data: [0.5, 1.5, -2, 3], type: 'DOUBLE' }], rowGroupSize: 2 }),
    write({ columnData: [{ name: 'text', data: ['x', null, 'z'], type: 'STRING' }, { name: 'big', data: [1n, 2n, 3n], type: 'INT64' }, { name: 'ok', data: [true, false, true], type: 'BOOLEAN' }] }),
  ],
  run: (input) => runDataset('data.parquet', input),
  rejects: [ReportedProblems],
} satisfies FuzzTarget;
