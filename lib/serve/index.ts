/** `convnode serve` as a library: createServer() and what it is configured with. */
export { createServer, type ConvnodeServer, type CreateServerOptions } from './server.js';
export { readServeConfig, resolveServeConfig, BUILTIN_MODEL, type ServeConfig, type ServeConfigInput, type ModelConfig } from './config.js';
export { DynamicBatcher, QueueFullError, type BatcherOptions, type BatchResult } from './batcher.js';
export { ServeError, type ServeErrorCode } from './errors.js';
export { installSignalDrain } from './signals.js';
