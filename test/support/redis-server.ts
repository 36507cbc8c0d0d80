import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A private redis-server for outage tests, never the shared one: no persistence, so a kill and a
 * start is an outage after which Redis comes back empty.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILLs the server (an outage; everything in it is lost). */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty). */
  start(): Promise<void>;
  readonly running: boolean;
}

export async function startPrivateRedis(binary = process.env.KESTREL_REDIS_SERVER_BIN ?? 'redis-server'): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    probe.on('error', () => {});
    try {
      for (let i = 0; ; i++) {
        try {
          if (probe.status !== 'ready') await probe.connect();
          await probe.ping();
          return;
        } catch (err) {
          if (i > 200 || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    } finally {
      probe.disconnect();
    }
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    get running() {
      return child !== undefined;
    },
  };
}
