import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { kalshiFee } from '../../domain/fees';
import { riskLimitsSchema } from '../../domain/risk/risk-manager';
import { exitConfigSchema } from '../../domain/trading/exits';
import { contractDifference, gameKeyId, parseGameTicker, type GameMarket } from '../../domain/sports/game-key';
import { type Game } from '../../domain/sports/games';
import { decideModelEdgeEntry, TipoffDetector } from '../../domain/sports/model-edge';
import { type CandleMarket, type ModelEdgeBacktestInput, runModelEdgeBacktest } from '../../domain/sports/model-edge-backtest';
import { defaultSuiteParams, GameModels } from '../../domain/sports/model-suite';
import { LiveGameModel, seasonOf, sportsModelContentSchema, type SportsModelContent } from '../../domain/sports/live-model';
import { modelEdgeSignal } from '../../domain/sports/model-edge-signal';

const d = (x: string | number) => new Dec(x);
const rule = { minEdge: d('0.05'), minConfidence: 0.7, kellyFraction: d('0.25'), takerRate: d('0.07') };

describe('sports: Kalshi game tickers and contract equivalence', () => {
  it('parses date, away, home and the YES team into a game key', () => {
    const m = parseGameTicker('KXNBAGAME-25OCT21HOUOKC-OKC');
    assert.deepEqual(m, { league: 'nba', ticker: 'KXNBAGAME-25OCT21HOUOKC-OKC', date: '2025-10-21', away: 'HOU', home: 'OKC', yesTeam: 'OKC' });
    assert.equal(gameKeyId(m as GameMarket), 'nba:2025-10-21:HOU@OKC');
  });
  it('explains what is not a game ticker', () => {
    assert.match((parseGameTicker('KXGOLD15M-25OCT21-T1') as { error: string }).error, /not a game ticker/);
    assert.match((parseGameTicker('KXNBAGAME-25OCT41HOUOKC-OKC') as { error: string }).error, /bad date/);
    assert.match((parseGameTicker('KXNBAGAME-25OCT21HOUOKC-LAL') as { error: string }).error, /cannot tell the two teams apart/);
    assert.match((parseGameTicker('KXFOO-25OCT21HOUOKC-OKC') as { error: string }).error, /unknown game series KXFOO/);
  });
  it('trades only the same game, outcome and settlement rule', () => {
    const game = { league: 'nba' as const, date: '2025-10-21', away: 'HOU', home: 'OKC' };
    const terms = { game, outcomeTeam: 'OKC', settlement: 'final_result_incl_overtime' as const };
    assert.equal(contractDifference(terms, terms), undefined);
    assert.match(contractDifference(terms, { ...terms, outcomeTeam: 'HOU' })!, /different outcomes/);
    assert.match(contractDifference(terms, { ...terms, game: { ...game, date: '2025-10-22' } })!, /different games/);
    assert.match(contractDifference(terms, { ...terms, settlement: 'regulation_only' })!, /different settlement rules/);
  });
});

describe('sports: model-edge entry and tip-off', () => {
  const entry = (yesProbability: number, confidence: number, yes: string, no: string) => decideModelEdgeEntry({ yesProbability, confidence, yesAsk: d(yes), noAsk: d(no), capital: d(10000), maxContracts: d(100000), rule });
  it('buys the side with edge ≥ 0.05 when the models agree, Kelly-sized', () => {
    const yes = entry(0.6, 0.9, '0.52', '0.50');
    assert.ok(yes.enter && yes.side === 'yes' && yes.edge.eq('0.08') && yes.contracts.gt(0));
    const no = entry(0.3, 0.9, '0.40', '0.62');
    assert.ok(no.enter && no.side === 'no' && no.edge.eq('0.08'));
  });
  it('refuses thin edges and disagreeing models', () => {
    assert.match((entry(0.55, 0.9, '0.51', '0.51') as { why: string }).why, /edge 0\.0400 < 0\.05/);
    assert.match((entry(0.7, 0.6, '0.50', '0.52') as { why: string }).why, /confidence 0\.600 < 0\.7/);
  });
  it('detects play from a swing within the window and keeps the price before it', () => {
    const t = new TipoffDetector({ windowMinutes: 10, moveCents: 5 });
    const min = (m: number) => m * 60_000;
    assert.equal(t.observe(min(0), 40), false);
    assert.equal(t.observe(min(30), 42), false);
    assert.equal(t.observe(min(45), 41), false);
    assert.equal(t.observe(min(50), 46), true);
    assert.equal(t.preGameCents, 42, 'the close before the 10-minute window that showed the swing');
    assert.equal(t.inPlaySinceMs, min(50));
  });
});

describe('sports: model-edge backtest on candles', () => {
  const T0 = Date.parse('2025-10-21T00:00:00Z');
  const history = (): Game[] => {
    const games: Game[] = [];
    const teams = ['HOU', 'LAL', 'BOS'];
    for (const season of [2024, 2025])
      for (let i = 0; i < 90; i++) {
        const other = teams[i % 3]!;
        const date = new Date(Date.parse(`${season - 1}-11-01T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
        games.push({ line: games.length + 2, date, season, neutral: false, playoff: false, home: i % 2 ? 'OKC' : other, away: i % 2 ? other : 'OKC', score: i % 2 ? { home: 110, away: 95 } : { home: 95, away: 110 } });
      }
    return games;
  };
  const market = (): CandleMarket => {
    const m = parseGameTicker('KXNBAGAME-25OCT21HOUOKC-OKC') as GameMarket;
    const candles = Array.from({ length: 120 }, (_, i) => ({ atMs: T0 + i * 10 * 60_000, closeCents: 40, volume: 500 }));
    candles.push({ atMs: T0 + 27 * 3_600_000, closeCents: 99, volume: 2000 });
    return { market: m, yesWon: true, candles };
  };
  const input = (o: Partial<ModelEdgeBacktestInput> = {}): ModelEdgeBacktestInput => ({
    history: history(),
    markets: [market()],
    suite: defaultSuiteParams('nba'),
    rule,
    slippage: d('0.01'),
    capital: d(10000),
    risk: riskLimitsSchema.parse({}),
    exits: exitConfigSchema.parse({}),
    tipoff: { windowMinutes: 10, moveCents: 5 },
    latestFirstPriceHours: 16,
    ...o,
  });

  it('enters before tip-off at close + slippage, at most the minute’s volume, and exits by the exit rules with taker fees', () => {
    const r = runModelEdgeBacktest(input());
    assert.equal(r.trades, 1);
    const t = r.tradeList[0]!;
    assert.equal(t.side, 'yes');
    assert.equal(t.entryPrice, '0.41');
    assert.equal(t.contracts, '500');
    assert.equal(t.openedAt, '2025-10-21T00:00:00.000Z');
    // The final minute (99¢) is a 59¢ swing: the profit target sells everything at 0.98.
    assert.deepEqual(t.exits, ['profit_target 500 @ 0.98']);
    const fees = kalshiFee({ contracts: d(500), price: d('0.41'), rate: d('0.07') }).plus(kalshiFee({ contracts: d(500), price: d('0.98'), rate: d('0.07') }));
    assert.equal(t.fees, fees.toFixed(4));
    assert.equal(r.pnl, d(500).times(d('0.98').minus('0.41')).minus(fees).toFixed(4));
    assert.equal(r.fees, fees.toFixed(4));
    assert.equal(r.marketBrier, (0.4 - 1) ** 2);
    assert.ok(r.modelBrier !== null && r.modelBrier < r.marketBrier!);
  });

  it('holds to settlement when no exit fires, paying $1 per contract', () => {
    const m = market();
    m.candles = m.candles.slice(0, 120);
    const r = runModelEdgeBacktest(input({ markets: [m] }));
    assert.equal(r.tradeList[0]!.exits.at(-1), 'settled $1 × 500');
    const fee = kalshiFee({ contracts: d(500), price: d('0.41'), rate: d('0.07') });
    assert.equal(r.pnl, d(500).times(d('0.59')).minus(fee).toFixed(4));
  });

  it('never uses a result before it is known: the game’s own result leaves its pre-game decisions unchanged', () => {
    const own = (home: number, away: number): Game => ({ line: 999, date: '2025-10-21', season: 2026, neutral: false, playoff: false, home: 'OKC', away: 'HOU', score: { home, away } });
    const won = runModelEdgeBacktest(input({ history: [...history(), own(120, 80)] }));
    const lost = runModelEdgeBacktest(input({ history: [...history(), own(80, 120)] }));
    assert.deepEqual(won.tradeList.map((t) => [t.modelProbability, t.contracts, t.entryPrice]), lost.tradeList.map((t) => [t.modelProbability, t.contracts, t.entryPrice]));
    assert.equal(won.modelBrier, lost.modelBrier);
  });

  it('games before --from only update ratings: not traded, not scored', () => {
    const r = runModelEdgeBacktest(input({ fromDate: '2025-10-22' }));
    assert.deepEqual([r.games, r.trades, r.modelBrier, r.marketBrier], [0, 0, null, null]);
  });
});

describe('sports: live model versions and model-edge signals', () => {
  const trained = (league: 'nba' | 'nfl') => {
    const params = defaultSuiteParams(league);
    const models = new GameModels(params);
    for (let i = 0; i < 40; i++) {
      const date = new Date(Date.parse('2024-11-01T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10);
      models.record({ line: i + 2, date, season: league === 'nba' ? 2025 : 2024, neutral: false, playoff: false, home: i % 2 ? 'OKC' : 'HOU', away: i % 2 ? 'HOU' : 'OKC', score: i % 2 ? { home: 30, away: 10 } : { home: 10, away: 30 } });
    }
    const content: SportsModelContent = { kind: 'sports-ensemble', league, trainedFrom: '2024-11-01', trainedThrough: '2024-12-10', params, state: models.exportState(), regression: null };
    return { live: new LiveGameModel(sportsModelContentSchema.parse(content)), name: `${league}-ensemble`, version: 'v1.2' };
  };
  const quote = (market: string, yesAsk: string, noAsk: string) => ({ market, yesAsk: d(yesAsk), noAsk: d(noAsk), closeTimeMs: 2e12, nowMs: 1e12 });
  const edgeRule = { minEdge: d('0.05'), minConfidence: 0.7 };

  it('the stored state predicts the same as the models it came from, without moving', () => {
    const model = trained('nba');
    const key = { league: 'nba' as const, date: '2025-10-21', away: 'HOU', home: 'OKC' };
    const first = model.live.predict(key)!;
    assert.ok(first.probability > 0.8 && first.confidence >= 0.7);
    assert.deepEqual(model.live.predict(key), first);
    assert.equal(model.live.predict({ ...key, away: 'LAL' }), undefined, 'a team the model never saw');
    assert.equal(seasonOf('nba', '2025-10-21'), 2026);
    assert.equal(seasonOf('nfl', '2026-01-10'), 2025);
  });

  it('signals the side with edge, names the model version, and refuses what is not the same bet', () => {
    const nba = trained('nba');
    const yes = modelEdgeSignal(quote('KXNBAGAME-25OCT21HOUOKC-OKC', '0.60', '0.42'), nba, edgeRule);
    assert.ok('signal' in yes);
    assert.deepEqual([yes.signal.outcome, yes.signal.ask, yes.signal.signalId, yes.signal.category], ['yes', '0.6000', 'model-edge:KXNBAGAME-25OCT21HOUOKC-OKC:yes:nba-ensemble@v1.2', 'kxnbagame']);
    // The HOU contract: its NO side is "OKC wins" (no ties in the NBA).
    const no = modelEdgeSignal(quote('KXNBAGAME-25OCT21HOUOKC-HOU', '0.40', '0.60'), nba, edgeRule);
    assert.ok('signal' in no && no.signal.outcome === 'no');
    assert.match((modelEdgeSignal(quote('KXNBAGAME-25OCT21HOUOKC-OKC', '0.97', '0.05'), nba, edgeRule) as { rejected: string }).rejected, /edge -?0\.\d{4} < 0\.05/);
    assert.match((modelEdgeSignal(quote('KXNBAGAME-25OCT21HOUOKC-OKC', '0.60', '0.42'), nba, { ...edgeRule, minConfidence: 1.01 }) as { rejected: string }).rejected, /confidence/);
    const nfl = trained('nfl');
    assert.match((modelEdgeSignal(quote('KXNFLGAME-25OCT21HOUOKC-HOU', '0.40', '0.60'), nfl, edgeRule) as { rejected: string }).rejected, /also pays on a tie in NFL/);
  });
});
