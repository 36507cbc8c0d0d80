import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { gameStates } from '../../db/schema';
import type { Alert } from '../../domain/alerts';
import { EspnClient } from '../../venues/espn/client';
import { pollLeague, startGamePoller } from '../../workers/sports/game-poller';
import { createRedis } from '../../workers/redis';
import { getHarness, SHARED_DATA_DIR, uniqueName } from '../support/harness';
import { waitFor } from '../support/wait';

const recorded = (file: string) => readFileSync(path.join(SHARED_DATA_DIR, 'espn-scoreboard', file), 'utf8');

describe('ESPN game poller: recorded scoreboards from a local HTTP server into SCD-2 game states', function () {
  this.timeout(60_000);
  let server: Server;
  let baseUrl: string;
  /** What the fake ESPN answers for the NFL scoreboard next: a body, or an HTTP status. */
  let nflScoreboard: string | number;
  let db: DatabaseHandle;
  const requests: string[] = [];
  /** A recorded NFL summary, relabelled as the event asked for (the recordings are of other games). */
  const summaryFor = (eventId: string) => {
    const summary = JSON.parse(readFileSync(path.join(SHARED_DATA_DIR, 'espn-game-summary', 'nfl_summary_401671784_DAL-at-PIT_2024-10-06_final.json'), 'utf8')) as { header: { id: string }; winprobability: { homeWinPercentage: number }[] };
    summary.header.id = eventId;
    summary.winprobability.at(-1)!.homeWinPercentage = 0.25;
    return JSON.stringify(summary);
  };

  before(async () => {
    const harness = await getHarness();
    db = openDatabase(harness.databaseUrl, { max: 2 });
    // Other runs may have left rows for the same recorded games: start from none.
    await db.db.delete(gameStates).where(eq(gameStates.league, 'nfl'));
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = req.url?.startsWith('/football/nfl/scoreboard') ? nflScoreboard : req.url?.startsWith('/football/nfl/summary?event=') ? summaryFor(req.url.split('=')[1]!) : 404;
      if (typeof body === 'number') return void res.writeHead(body).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });

  it('stores each change as a new version, alerts on scores and phases going backwards, survives bad payloads', async () => {
    const alerts: Omit<Alert, 'atMs'>[] = [];
    const logs: string[] = [];
    const deps = { db: db.db, source: new EspnClient({ baseUrl }), clock: { nowMs: () => Date.now() }, alert: (a: Omit<Alert, 'atMs'>) => alerts.push(a), log: (l: string) => logs.push(l) };
    nflScoreboard = recorded('nfl_2025wk1_pregame.json');
    const first = await pollLeague(deps, 'nfl', 180_000);
    assert.deepEqual([first.inserted, first.versioned, first.unchanged, first.malformed, first.issues], [16, 0, 0, 0, []]);

    nflScoreboard = recorded('nfl_2025wk1_after_thu_final.json');
    const second = await pollLeague(deps, 'nfl', 180_000);
    assert.deepEqual([second.inserted, second.versioned, second.unchanged, second.issues], [0, 1, 15, []]);
    const versions = await db.db.select().from(gameStates).where(and(eq(gameStates.league, 'nfl'), eq(gameStates.gameKey, 'nfl:2025-09-04:DAL@PHI'))).orderBy(gameStates.id);
    assert.deepEqual(
      versions.map((v) => [v.phase, v.homeScore, v.awayScore, v.rowCurrentInd, v.expirationTs !== null]),
      [
        ['pre', 0, 0, false, true],
        ['post', 24, 20, true, false],
      ],
    );

    // The feed goes back to the pre-game capture: both checks fire, as alerts.
    nflScoreboard = recorded('nfl_2025wk1_pregame.json');
    const third = await pollLeague(deps, 'nfl', 180_000);
    assert.deepEqual(third.issues.map((i) => i.kind), ['score_backwards', 'phase_backwards']);
    assert.deepEqual(alerts.map((a) => [a.kind, a.key]), [
      ['game_data', `game_data:nfl:score_backwards:${third.issues[0]!.espnId}`],
      ['game_data', `game_data:nfl:phase_backwards:${third.issues[0]!.espnId}`],
    ]);

    nflScoreboard = JSON.stringify({ events: [{ id: 42 }] });
    const malformed = await pollLeague(deps, 'nfl', 180_000);
    assert.equal(malformed.malformed, 1);
    assert.ok(logs.some((l) => /unexpected shape: event #0/.test(l)));
    nflScoreboard = 503;
    assert.equal((await pollLeague(deps, 'nfl', 180_000)).fetchFailed, true);
    assert.ok(logs.some((l) => /HTTP 503/.test(l)));
  });

  it('a BullMQ job scheduler polls, and speeds up while a game is in play', async () => {
    const harness = await getHarness();
    const live = JSON.parse(recorded('nfl_2025wk1_pregame.json')) as { events: { competitions: { status: { type: { state: string } } }[] }[] };
    live.events[0]!.competitions[0]!.status.type.state = 'in';
    nflScoreboard = JSON.stringify(live);
    const [connection, workerConnection] = [createRedis(harness.redisUrl, 'producer'), createRedis(harness.redisUrl, 'worker')];
    const before = requests.length;
    const poller = await startGamePoller({ db: db.db, source: new EspnClient({ baseUrl }), clock: { nowMs: () => Date.now() }, log: () => {}, connection, workerConnection, prefix: uniqueName('kestrel-test'), settings: { leagues: ['nfl'], liveMs: 200, idleMs: 1000, startingSoonMs: 0, staleMs: 60_000 } });
    try {
      await waitFor(async () => poller.currentEveryMs(), (every) => every === 200, 'live cadence');
      await waitFor(async () => requests.length - before, (n) => n >= 3, 'polls at the live cadence');
      const [current] = await db.db.select().from(gameStates).where(and(eq(gameStates.gameKey, 'nfl:2025-09-04:DAL@PHI'), eq(gameStates.rowCurrentInd, true)));
      assert.equal(current!.phase, 'in');
      assert.equal(current!.homeWinProbability, 0.25, 'from the summary of the game in play');
      assert.ok(requests.some((r) => r.startsWith('/football/nfl/summary?event=')));
    } finally {
      await poller.close();
      await Promise.all([connection.quit(), workerConnection.quit()]);
    }
  });
});
