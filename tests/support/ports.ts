/**
 * Free TCP ports for test servers. Port 0 lets the kernel choose; we close the probe at once and
 * hand the number to a child process (influxd cannot be told "port 0" and report back). There is a
 * small window in which another process could take the port; tests accept that.
 */
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: no TCP address from the probe server'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}
