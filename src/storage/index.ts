// Public surface of src/storage: the IndexedDB run store, its record types, quota helpers and schema migrations.
export { RunStore, DEFAULT_DB_NAME, DEFAULT_KEEP_LATEST, checkpointId } from './run-store.ts';
export type { OpenOptions, SaveOptions, RunUsage } from './run-store.ts';
export { DB_VERSION, MIGRATIONS, checkpointBytes, migrateRunV1, pickBest, splitCheckpointV1 } from './migrations.ts';
export type { CheckpointV1, Migration, RunV1 } from './migrations.ts';
export { StorageQuotaError, formatBytes, isQuotaError, requestPersistentStorage, storageSpace } from './quota.ts';
export type { StorageManagerLike, StorageSpace } from './quota.ts';
export type * from './types.ts';
