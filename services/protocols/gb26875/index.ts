/**
 * GB/T 26875.3-2011 codec (UITD ↔ monitoring centre), docs/standards.md §1. Pure: no sockets.
 *
 *   TCP bytes ─► FrameSplitter.push ─► decodeFrame ─► decodeAppData ─► tables (names, scaling)
 */
export * from './frame.js';
export * from './frame-splitter.js';
export * from './app-data.js';
export * from './tables.js';
