import type { z } from 'zod';
import type { Clock } from '../domain/clock';
import { BadRequest, NetworkError, RateLimitExceeded, VenueError } from '../domain/errors';
import type { TokenBucket } from '../domain/rate-limit/token-bucket';
import { describeIssues } from '../domain/validation';

export type Query = Record<string, string | number | boolean | undefined>;

export interface HttpRetryPolicy {
  maxRetries: number;
  backoff: { initialMs: number; maxMs: number };
}

export interface JsonRequest<T> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: URL;
  /** Called per attempt, so signatures carry a fresh timestamp. */
  headers?: () => Record<string, string>;
  body?: unknown;
  schema: z.ZodType<T>;
  /** e.g. `POST /portfolio/events/orders`, used in error messages. */
  context: string;
  /** Client-side rate limit to respect before every attempt. */
  bucket?: { bucket: TokenBucket; cost: number };
  /** Venue-specific HTTP status → error class mapping. */
  errorFor: (status: number, body: unknown, context: string, retryAfterMs?: number) => VenueError;
  /** false for writes that must not be repeated when their outcome is unknown (order creation). */
  idempotent?: boolean;
}

export interface HttpDeps {
  clock: Clock;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  retry: HttpRetryPolicy;
  requestTimeoutMs: number;
}

/**
 * One JSON API call with the shared venue policy: wait for rate-limit tokens, map failures to the
 * error hierarchy, retry retryable ones with exponential backoff (at least Retry-After on 429),
 * and validate the response with zod.
 */
export async function requestJson<T>(deps: HttpDeps, req: JsonRequest<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (req.bucket) {
      for (;;) {
        const taken = req.bucket.bucket.tryTake(req.bucket.cost, deps.clock.nowMs());
        if (taken.ok) break;
        await deps.sleep(taken.waitMs);
      }
    }
    const headers: Record<string, string> = { accept: 'application/json', ...(req.headers?.() ?? {}) };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    let error: VenueError;
    try {
      const response = await deps.fetch(req.url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: AbortSignal.timeout(deps.requestTimeoutMs),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* keep the text for the error message */
      }
      if (response.ok) {
        const parsed = req.schema.safeParse(body);
        if (!parsed.success) throw new BadRequest(`${req.context}: unexpected response shape: ${describeIssues(parsed.error.issues, 3)}`);
        return parsed.data;
      }
      const retryAfter = Number(response.headers.get('retry-after'));
      error = req.errorFor(response.status, body, req.context, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
      if (response.status === 429) req.bucket?.bucket.drain(deps.clock.nowMs());
    } catch (err) {
      if (err instanceof VenueError) throw err;
      error = new NetworkError(`${req.context}: ${(err as Error).message}`);
    }
    // A write that may have reached the venue is not repeated blindly (its caller looks it up first);
    // a 429 was refused before processing, so it is safe to repeat.
    const unknownOutcome = req.idempotent === false && !(error instanceof RateLimitExceeded);
    if (!error.retryable || unknownOutcome || attempt >= deps.retry.maxRetries) throw error;
    const exponential = Math.min(deps.retry.backoff.maxMs, deps.retry.backoff.initialMs * 2 ** attempt);
    await deps.sleep(Math.max(exponential, error instanceof RateLimitExceeded ? (error.retryAfterMs ?? 0) : 0));
  }
}

export function withQuery(base: string, path: string, query: Query = {}): URL {
  const url = new URL(base.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

export const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
