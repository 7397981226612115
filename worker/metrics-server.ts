// A process's Prometheus endpoint: a tiny node:http server answering GET
// /metrics from this process's registry (observability/metrics), on a port of
// its own and bound to METRICS_HOST (loopback by default): it has no API key,
// so it is never on the API's public port. The API process starts one on
// METRICS_PORT (api/server.ts), a standalone worker on WORKER_METRICS_PORT;
// under `npm start` the worker runs inside the API process and the API's
// listener shows both.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsContentType, metricsText } from '../observability/metrics';

export interface MetricsServer {
  /** The address it listens on, as bound. */
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try GET /metrics\n');
      return;
    }
    metricsText().then(
      (text) => {
        res.writeHead(200, { 'content-type': metricsContentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics failed: ${(err as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    host: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
