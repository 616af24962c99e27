/** The grid-case domain as one import for the app and the adapters. */
export * from './types.js';
export * from './calendar.js';
export * from './policy.js';
export * from './lifecycle.js';
export * from './case-book.js';
export * from './kpis.js';
export * from './reports.js';
