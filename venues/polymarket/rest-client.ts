import { z } from 'zod';
import type { Clock } from '../../domain/clock';
import { decimalString } from '../../domain/decimal';
import { defaultSleep, requestJson, withQuery, type HttpDeps, type Query } from '../http';
import { polymarketErrorFor } from './errors';
import { polymarketBookSchema } from './messages';

const restBookSchema = polymarketBookSchema.omit({ event_type: true }).extend({ event_type: z.literal('book').optional() });
const marketsPageSchema = z.object({ data: z.array(z.object({ condition_id: z.string() }).passthrough()), next_cursor: z.string().nullish() });

/** Public Polymarket CLOB endpoints: books (the resync source: there is no sequence number), markets, fee rates. */
export class PolymarketRestClient {
  private readonly http: HttpDeps;

  constructor(private readonly opts: { baseUrl: string; clock: Clock; fetch?: typeof fetch; sleep?: (ms: number) => Promise<void>; maxRetries?: number }) {
    this.http = { clock: opts.clock, fetch: opts.fetch ?? fetch, sleep: opts.sleep ?? defaultSleep, retry: { maxRetries: opts.maxRetries ?? 4, backoff: { initialMs: 250, maxMs: 8000 } }, requestTimeoutMs: 10_000 };
  }

  private get<T>(path: string, query: Query, schema: z.ZodType<T>): Promise<T> {
    return requestJson(this.http, { method: 'GET', url: withQuery(this.opts.baseUrl, path, query), schema, context: `GET ${path}`, errorFor: polymarketErrorFor });
  }

  /** A `book` snapshot in the same shape as the WS message, ready for PolymarketBookSync. */
  async book(tokenId: string) {
    const book = await this.get('/book', { token_id: tokenId }, restBookSchema);
    return { ...book, event_type: 'book' as const };
  }

  feeRateBps(tokenId: string) {
    return this.get('/fee-rate', { token_id: tokenId }, z.object({ base_fee: z.union([decimalString, z.number()]) }));
  }

  /** Walks `next_cursor` pages; Polymarket marks the end with "LTE=". */
  async *markets(): AsyncGenerator<z.infer<typeof marketsPageSchema>['data'][number]> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.get('/markets', { next_cursor: cursor }, marketsPageSchema);
      yield* page.data;
      if (!page.next_cursor || page.next_cursor === 'LTE=') return;
      cursor = page.next_cursor;
    }
  }
}
