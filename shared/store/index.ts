export type { ObjectKey, KeyPrefix } from './keys.js';
export type { ListOptions, ListResult } from './list.js';
export type { StoreEvent, WatchOptions } from './watch.js';
export { Store, type StoreOptions, type DeletePreconditions } from './store.js';
export { createTable, createTableInput, tableSchema } from './table.js';
export { maxObjectBytes } from './body.js';
