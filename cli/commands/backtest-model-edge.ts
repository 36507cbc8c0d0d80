import { loadBootstrapConfig } from '../../config/load';
import { Dec } from '../../domain/decimal';
import { exitConfigSchema } from '../../domain/trading/exits';
import { DEFAULT_MODEL_EDGE } from '../../domain/sports/model-edge';
import { runModelEdgeBacktest } from '../../domain/sports/model-edge-backtest';
import { defaultSuiteParams } from '../../domain/sports/model-suite';
import { isoDate } from '../../domain/sports/games';
import { loadGameCandles } from '../../backtest/kalshi-game-candles';
import { asCommand, CommandInputError, EXIT, numberOption, out, requiredString } from './cli-support';
import { parseLeague, readGamesFile } from './models';

export const MODEL_EDGE_BACKTEST_USAGE =
  'kestrel backtest --strategy model-edge --league nba --candles DIR [--games FILE] [--from YYYY-MM-DD] [--min-edge 0.05] [--min-confidence 0.70] [--slippage 0.01] [--kelly-fraction 0.25] [--json]';

/** Options `kestrel backtest` accepts in addition to its own, for `--strategy model-edge`. */
export const MODEL_EDGE_BACKTEST_OPTIONS = {
  league: { type: 'string' },
  candles: { type: 'string' },
  games: { type: 'string' },
  from: { type: 'string' },
  'min-edge': { type: 'string' },
  'min-confidence': { type: 'string' },
  slippage: { type: 'string' },
  'kelly-fraction': { type: 'string' },
} as const;

/**
 * `kestrel backtest --strategy model-edge`: the sports models against Kalshi game markets, from
 * one-minute trade candles. Fill assumption: buys at the minute's close + slippage, sells at the
 * close − slippage, never more contracts than traded in that minute; Kalshi taker fee on every fill.
 */
export function runModelEdgeBacktestCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  return asCommand('backtest', MODEL_EDGE_BACKTEST_USAGE, async () => {
    const league = parseLeague(values.league);
    if (league !== 'nba') throw new CommandInputError(`--league ${league}: only nba has Kalshi game candles here`);
    const from = typeof values.from === 'string' ? isoDate(values.from) : undefined;
    if (values.from !== undefined && !from) throw new CommandInputError(`--from must be a date YYYY-MM-DD, got ${JSON.stringify(values.from)}`);
    const { config } = loadBootstrapConfig();
    const slippage = numberOption(values, 'slippage', 0.01, { min: 0, max: 0.2 });
    const { markets, unsettled } = loadGameCandles(requiredString(values, 'candles'));
    const history = typeof values.games === 'string' ? readGamesFile(values.games, league) : [];
    const result = runModelEdgeBacktest({
      history,
      markets,
      fromDate: from,
      suite: defaultSuiteParams(league),
      rule: {
        minEdge: new Dec(numberOption(values, 'min-edge', Number(DEFAULT_MODEL_EDGE.minEdge), { min: 0, max: 1 })),
        minConfidence: numberOption(values, 'min-confidence', DEFAULT_MODEL_EDGE.minConfidence, { min: 0, max: 1 }),
        kellyFraction: new Dec(numberOption(values, 'kelly-fraction', Number(DEFAULT_MODEL_EDGE.kellyFraction), { min: 0.01, max: 1 })),
        takerRate: config.fees.kalshiTakerRate,
      },
      slippage: new Dec(slippage),
      capital: config.risk.capital,
      risk: config.risk,
      exits: exitConfigSchema.parse({}),
      tipoff: { windowMinutes: 10, moveCents: 5 },
      latestFirstPriceHours: 16,
    });
    out(`model-edge on ${result.games} ${league.toUpperCase()} Kalshi game markets${from ? ` from ${from}` : ''} (${markets.length} loaded, ${unsettled.length} without a result; ${history.length} earlier results rated first)`);
    out(`fills: close ± ${slippage.toFixed(2)} slippage, at most the minute's volume, Kalshi taker fee ${config.fees.kalshiTakerRate.toString()}; entries only before tip-off (detected from a ≥5¢ swing within 10 minutes)`);
    out(`trades ${result.trades}  P&L ${result.pnl} (fees ${result.fees})  win rate ${result.winRate === null ? '-' : (100 * result.winRate).toFixed(1) + '%'}  max drawdown ${result.metrics.maxDrawdown}`);
    out(`pre-game Brier on ${result.scoredGames} games: model ${result.modelBrier?.toFixed(4) ?? '-'}, market ${result.marketBrier?.toFixed(4) ?? '-'} (${result.gamesWithoutPreGamePrice} games without a pre-game price)`);
    if (Object.keys(result.skippedEntries).length) out(`entries refused by the risk manager: ${JSON.stringify(result.skippedEntries)}`);
    if (values.json) out(JSON.stringify({ games: result.games, trades: result.trades, pnl: Number(result.pnl), fees: Number(result.fees), winRate: result.winRate, modelBrier: result.modelBrier, marketBrier: result.marketBrier }));
    return EXIT.ok;
  });
}
