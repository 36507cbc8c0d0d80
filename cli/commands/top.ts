import React from 'react';
import { loadBootstrapConfig } from '../../config/load';
import { openDatabase } from '../../db/client';
import { dashboardData } from '../../observability/dashboard';
import { flattenAll } from '../../runtime/flatten';
import { requestPositionExit } from '../../runtime/request-exit';
import { readPartitionOwners } from '../../workers/market-data/partition-leases';
import { readTopOfBook, type PublishedTopOfBook } from '../../workers/market-data/top-of-book';
import { createRedis } from '../../workers/redis';
import { createTopApp, loadTerminalModules } from '../top/app';
import type { TopSnapshot } from '../top/view';
import { CommandInputError, EXIT, err, intOption, withTemporal, type CliCommand } from './cli-support';

/** A refresh that has not answered in this long is reported as failed (Redis commands queue while it reconnects). */
const REFRESH_TIMEOUT_MS = 5000;
/** An action whose answer takes longer frees the keyboard again (an Update waits for a worker to run it). */
const ACTION_TIMEOUT_MS = 15_000;

/** `work`, or a failure saying `message` when it takes longer than `ms` (the work itself goes on). */
function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export const topCommand: CliCommand = {
  summary: 'full-screen live view: positions, P&L, signals, breakers, feed health; exit or flatten from the keyboard',
  usage: 'kestrel top [--refresh-ms MS]',
  details:
    'Refreshes every second (--refresh-ms 200..60000). Keys: ↑/↓ (or j/k) select a position, x (or Enter) exit it at MEDIUM urgency ' +
    '(the requestExit Update, as `kestrel exit`), F flatten all (CRITICAL, as `kestrel flatten-all`), each after a y/N confirmation; ' +
    'r refresh now; q quits. Needs an interactive terminal: for scripts use `kestrel positions --json` and `kestrel health --json`.',
  options: { 'refresh-ms': { type: 'string' } },
  async run({ values }) {
    const refreshMs = intOption(values, 'refresh-ms', 1000, { min: 200, max: 60_000 });
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      throw new CommandInputError(`needs an interactive terminal (${!process.stdout.isTTY ? 'stdout' : 'stdin'} is not a TTY); for scripts use \`kestrel positions --json\` and \`kestrel health --json\``);
    }
    const { config } = loadBootstrapConfig();
    const temporalHost = config.temporal.address.replace(/:\d+$/, '');
    const temporalUi = `http://${temporalHost}:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}`;
    const { ink, ansiEscapes } = await loadTerminalModules();
    const database = openDatabase(config.database.url, { max: 2, applicationName: 'kestrel-top' });
    const redis = createRedis(config.redis.url, 'producer');
    // ioredis would print every failed reconnect over the screen; an outage shows as a failed refresh instead.
    redis.on('error', () => {});
    let connected = false;
    try {
      return await withTemporal(async (client) => {
        connected = true;
        const md = config.marketData;
        const load = async (): Promise<TopSnapshot> => {
          const readAtMs = Date.now();
          // The tops dashboardData marks the positions with are the feed-health rows too: read them once.
          let tops: ReadonlyMap<string, PublishedTopOfBook> = new Map();
          const [data, owners] = await withTimeout(
            Promise.all([
              dashboardData(database.db, temporalUi, readAtMs, async (markets) => (tops = await readTopOfBook(redis, config.redis.keyPrefix, markets))),
              readPartitionOwners(redis, config.redis.keyPrefix, md.queueBase, md.partitions),
            ]),
            REFRESH_TIMEOUT_MS,
            `Postgres or Redis did not answer within ${REFRESH_TIMEOUT_MS / 1000}s`,
          );
          return { data, tops, partitions: owners.partitions, members: owners.members, readAtMs };
        };
        // The first read happens before the screen is taken: a service that is down fails the command plainly.
        let initial: TopSnapshot;
        try {
          initial = await load();
        } catch (e) {
          err(`kestrel top: service unavailable: ${(e as Error).message}`);
          return EXIT.unavailable;
        }
        const TopApp = createTopApp(ink);
        process.stdout.write(ansiEscapes.enterAlternativeScreen);
        // Raw from the first frame: Ink turns raw mode on in an effect that can run a moment after the
        // first frame is drawn, and keys typed before that would sit in the terminal's line buffer.
        process.stdin.setRawMode(true);
        const instance = ink.render(
          React.createElement(TopApp, {
            initial,
            refreshMs,
            urgency: 'MEDIUM',
            actions: {
              load,
              exitPosition: (positionId) => withTimeout(requestPositionExit(client, positionId, { urgency: 'MEDIUM', reason: 'manual (kestrel top)' }), ACTION_TIMEOUT_MS, `no answer from the position workflow within ${ACTION_TIMEOUT_MS / 1000}s (the exit may still be applied when a worker runs it)`),
              flattenAll: () => withTimeout(flattenAll(client, 'flatten-all: kestrel top'), ACTION_TIMEOUT_MS, `no answer from Temporal within ${ACTION_TIMEOUT_MS / 1000}s (the positions listed until then were signalled)`),
            },
          }),
          { exitOnCtrlC: true },
        );
        const onTerminate = () => instance.unmount();
        process.once('SIGTERM', onTerminate);
        process.once('SIGHUP', onTerminate);
        try {
          await instance.waitUntilExit();
        } finally {
          process.off('SIGTERM', onTerminate);
          process.off('SIGHUP', onTerminate);
          instance.cleanup();
          process.stdin.setRawMode(false);
          // Back to the screen the user had before, cursor shown.
          process.stdout.write(ansiEscapes.exitAlternativeScreen + ansiEscapes.cursorShow);
        }
        return EXIT.ok;
      });
    } catch (e) {
      if (connected) throw e;
      err(`kestrel top: service unavailable: Temporal at ${config.temporal.address}: ${(e as Error).message}`);
      return EXIT.unavailable;
    } finally {
      redis.disconnect();
      await database.close();
    }
  },
};
