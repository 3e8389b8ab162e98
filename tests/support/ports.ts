/** Free TCP ports for test servers: the same helper the benchmark uses. */
export { freePort } from '../../bench/ports.js';
