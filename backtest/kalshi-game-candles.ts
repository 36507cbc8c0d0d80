import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { columnIndex, DataFileError, parseCsv } from '../domain/sports/csv';
import { parseGameTicker } from '../domain/sports/game-key';
import type { CandleMarket } from '../domain/sports/model-edge-backtest';

/**
 * Loads a folder of Kalshi game-market one-minute candles in the format of
 * `../shared/data/sports/kalshi-nba-1m-candles/`: `MANIFEST.csv` (file, ticker, yes_side_won) and
 * `files/*.csv.gz` (game_id, ticker, timestamp, datetime, open, high, low, close, volume). Only
 * minutes with trades are kept. Problems name the file and line.
 */
export function loadGameCandles(dir: string): { markets: CandleMarket[]; unsettled: string[] } {
  const manifestPath = path.join(dir, 'MANIFEST.csv');
  if (!existsSync(manifestPath)) throw new DataFileError(`${dir}: no MANIFEST.csv (expected a candle folder like ../shared/data/sports/kalshi-nba-1m-candles)`);
  const manifest = parseCsv(readFileSync(manifestPath, 'utf8'), manifestPath);
  const col = columnIndex(manifest, ['file', 'ticker', 'yes_side_won'], manifestPath);
  const markets: CandleMarket[] = [];
  const unsettled: string[] = [];
  for (const { line, cells } of manifest.rows) {
    const ticker = cells[col.ticker]?.trim() ?? '';
    const market = parseGameTicker(ticker);
    if ('error' in market) throw new DataFileError(`${manifestPath} line ${line}, column ticker: ${market.error}`);
    const won = cells[col.yes_side_won]?.trim();
    if (won !== '1' && won !== '0') {
      unsettled.push(ticker);
      continue;
    }
    const file = path.join(dir, cells[col.file]?.trim() ?? '');
    let text: string;
    try {
      const bytes = readFileSync(file);
      text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    } catch (e) {
      throw new DataFileError(`${manifestPath} line ${line}, column file: cannot read ${file}: ${(e as Error).message}`);
    }
    const table = parseCsv(text, file);
    const c = columnIndex(table, ['ticker', 'timestamp', 'close', 'volume'], file);
    const candles: CandleMarket['candles'] = [];
    for (const row of table.rows) {
      const close = row.cells[c.close]?.trim() ?? '';
      if (row.cells[c.ticker]?.trim() !== ticker) throw new DataFileError(`${file} line ${row.line}, column ticker: ${JSON.stringify(row.cells[c.ticker])} is not the manifest's ${ticker}`);
      if (close === '') continue;
      const atMs = Number(row.cells[c.timestamp]) * 1000;
      const cents = Number(close);
      const volume = Number(row.cells[c.volume]);
      if (!Number.isFinite(atMs)) throw new DataFileError(`${file} line ${row.line}, column timestamp: not Unix seconds: ${JSON.stringify(row.cells[c.timestamp])}`);
      if (!Number.isInteger(cents) || cents < 0 || cents > 100) throw new DataFileError(`${file} line ${row.line}, column close: not a price in cents: ${JSON.stringify(close)}`);
      if (!Number.isFinite(volume) || volume < 0) throw new DataFileError(`${file} line ${row.line}, column volume: ${JSON.stringify(row.cells[c.volume])}`);
      const previous = candles[candles.length - 1];
      if (previous && atMs <= previous.atMs) throw new DataFileError(`${file} line ${row.line}, column timestamp: minutes out of order`);
      candles.push({ atMs, closeCents: cents, volume });
    }
    markets.push({ market, yesWon: won === '1', candles });
  }
  return { markets, unsettled };
}
