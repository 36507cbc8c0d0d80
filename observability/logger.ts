import { DefaultLogger, Runtime, makeTelemetryFilterString, type LogEntry } from '@temporalio/worker';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs. Secrets never reach a log line: they are only read from the environment or
 * files (never config), never put into log fields, and these paths are redacted as a second guard.
 */
export const REDACT_PATHS = ['password', 'pass', 'privateKey', 'apiKeyId', 'headers.authorization', 'headers["KALSHI-ACCESS-KEY"]', 'headers["KALSHI-ACCESS-SIGNATURE"]', '*.password', '*.privateKey', '*.apiKeyId'];

export function createLogger(opts: { level: string; destination?: DestinationStream; name?: string }): Logger {
  return pino({ level: opts.level, name: opts.name ?? 'kestrel', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, opts.destination ?? pino.destination(2));
}

/** Temporal SDK logs (worker, workflows, activities) into pino, keeping their workflow / activity ids as fields. */
export function temporalLogger(logger: Logger, level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'WARN'): DefaultLogger {
  const map = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
  return new DefaultLogger(level, (entry: LogEntry) => logger[map[entry.level]]({ ...(entry.meta ?? {}), source: 'temporal' }, entry.message));
}

/**
 * Routes the Temporal SDK's logs into pino, the native core's included (forwarded: otherwise core
 * prints its own lines on the console, e.g. the poll errors while the server is down); a process
 * whose runtime already exists (tests) keeps its own.
 */
export function installTemporalLogging(logger: Logger, level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'WARN'): void {
  try {
    Runtime.install({
      logger: temporalLogger(logger, level),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level, other: 'ERROR' }), forward: {} } },
    });
  } catch {
    // Already installed in this process.
  }
}
