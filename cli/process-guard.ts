import type { Logger } from 'pino';
import { isPostgresDriverFault, recycleOpenPools } from '../db/client';
import { isConnectionError } from '../db/transactions';
import { isRedisConnectionError } from '../workers/redis';

/** How the guard classified an error that reached the process level. */
export type ProcessFault = 'postgres-driver' | 'connection' | 'fatal';


/**
 * Which errors a long-running process survives: a dropped connection (Postgres or Redis; the
 * owner of the call retries) and postgres.js's write-after-close fault (the pools are replaced).
 * Anything else means the process's state can no longer be trusted.
 */
export function classifyProcessError(err: unknown): ProcessFault {
  if (isPostgresDriverFault(err)) return 'postgres-driver';
  if (isConnectionError(err)) return 'connection';
  if (isRedisConnectionError(err)) return 'connection';
  return 'fatal';
}

export interface ProcessGuard {
  /** Recoverable faults logged and survived so far. */
  readonly survived: number;
  uninstall(): void;
}

/**
 * Handles what escaped every caller (uncaughtException, unhandledRejection): recoverable faults are
 * logged and the process carries on; anything else is logged as fatal, `shutdown` runs (BullMQ,
 * Temporal, then pools) and the process exits 1, so nothing is left half-stopped.
 */
export function installProcessGuard(opts: { logger: Logger; shutdown: () => Promise<void>; exit?: (code: number) => void }): ProcessGuard {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let survived = 0;
  let fatal = false;
  const handle = (err: unknown, origin: 'uncaughtException' | 'unhandledRejection') => {
    const fault = classifyProcessError(err);
    const fields = { origin, fault, err: err instanceof Error ? { message: err.message, code: (err as { code?: unknown }).code, stack: err.stack } : String(err) };
    if (fault !== 'fatal') {
      survived++;
      if (fault === 'postgres-driver') recycleOpenPools();
      opts.logger.warn(fields, fault === 'postgres-driver' ? 'postgres connection fault outside any query: database pools replaced, carrying on' : 'connection error outside any caller: carrying on');
      return;
    }
    opts.logger.fatal(fields, 'unrecoverable error: shutting down in order');
    if (fatal) return;
    fatal = true;
    void opts.shutdown().then(
      () => exit(1),
      (shutdownErr: unknown) => {
        opts.logger.fatal({ err: String(shutdownErr) }, 'shutdown after a fatal error failed');
        exit(1);
      },
    );
  };
  const onException = (err: unknown) => handle(err, 'uncaughtException');
  const onRejection = (err: unknown) => handle(err, 'unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    get survived() {
      return survived;
    },
    uninstall() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}
