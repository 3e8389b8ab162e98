/**
 * V8 flags for the service process. Every launcher of `firewatch serve` passes them: the `start`
 * script in package.json, the Dockerfile's CMD, deploy/systemd/firewatch.service and the bench
 * (tests/unit/node-flags.test.ts checks each one).
 *
 * `--max-semi-space-size=64` (MiB; Node's default is 16): each accepted reading allocates a few
 * short-lived objects (the packet, the parsed JSON, the reading, the row for the log), and with
 * ~1,600 publishes in flight many of them outlive a 16 MiB young generation and are promoted, to be
 * collected later at a higher cost. A larger young generation lets them die young: the QoS 1 rate
 * rose by about 15 % for 60–90 MiB more peak resident memory at full load (bench/REPORT.md, run 6).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
