export { maxObjectBytes } from './body.js';
export type { KeyPrefix, ObjectKey } from './keys.js';
export type { ListOptions, ListResult } from './list.js';
export { type DeletePreconditions, Store, type StoreOptions } from './store.js';
export { createTable, createTableInput, tableSchema } from './table.js';
export type { StoreEvent, WatchOptions } from './watch.js';
