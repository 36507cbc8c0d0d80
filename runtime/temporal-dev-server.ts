import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { KESTREL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export interface DevServerHandle {
  address: string;
  uiUrl: string;
  /** True when this process started the server (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
}

async function reachable(address: string, timeoutMs: number): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the Temporal CLI dev server (SQLite file, Web UI) unless one already answers on `port`;
 * waits until it serves requests.
 */
export async function startDevServer(opts: { binary: string | undefined; ip: string; port: number; uiPort: number; dbFile: string; namespace: string; readyTimeoutMs?: number; log?: (line: string) => void }): Promise<DevServerHandle> {
  const address = `${opts.ip}:${opts.port}`;
  const uiUrl = `http://${opts.ip === '0.0.0.0' ? '127.0.0.1' : opts.ip}:${opts.uiPort}`;
  if (await reachable(address, 1000)) return { address, uiUrl, owned: false, stop: async () => {} };
  if (!opts.binary) throw new Error(`Temporal is not reachable at ${address} and no dev-server binary was given (--temporal-bin or KESTREL_TEMPORAL_BIN; \`npm start\` builds one)`);

  const child: ChildProcess = spawn(
    opts.binary,
    [
      'server', 'start-dev', '--ip', opts.ip, '--port', String(opts.port), '--ui-port', String(opts.uiPort), '--db-filename', opts.dbFile, '--namespace', opts.namespace, '--log-level', 'warn',
      // Lets the Temporal UI filter positions by strategy, market and status.
      ...KESTREL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let exited: number | null | undefined;
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exitPromise = new Promise<void>((resolve) => child.once('exit', (code) => ((exited = code), resolve())));

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!(await reachable(address, 1000))) {
    if (exited !== undefined) throw new Error(`Temporal dev server exited with code ${exited}:\n${output.join('')}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`Temporal dev server did not become ready on ${address}:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  opts.log?.(`Temporal dev server started (pid ${child.pid}) on ${address}, UI ${uiUrl}`);
  return {
    address,
    uiUrl,
    owned: true,
    stop: async () => {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(killTimer);
    },
  };
}
