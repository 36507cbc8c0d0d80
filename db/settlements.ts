import { and, eq } from 'drizzle-orm';
import type { SettlementSource } from '../domain/ports';
import type { Database } from './client';
import { marketSnapshots } from './schema';

/** Market results from the current SCD-2 market snapshot (`result` attribute once finalized). */
export class RecordedSettlements implements SettlementSource {
  constructor(private readonly db: Database) {}

  async result(market: string): Promise<'yes' | 'no' | undefined> {
    const [row] = await this.db
      .select({ status: marketSnapshots.status, attributes: marketSnapshots.attributes })
      .from(marketSnapshots)
      .where(and(eq(marketSnapshots.marketTicker, market), eq(marketSnapshots.rowCurrentInd, true)));
    const result = (row?.attributes as { result?: unknown } | undefined)?.result;
    return (row?.status === 'finalized' || row?.status === 'settled') && (result === 'yes' || result === 'no') ? result : undefined;
  }
}
