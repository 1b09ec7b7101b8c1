// Public surface of src/storage: the IndexedDB run store, its record types, quota helpers and schema migrations.
export { RunStore,    } from './run-store.ts';
;
;
;
export { StorageQuotaError,     } from './quota.ts';
;
export type * from './types.ts';
