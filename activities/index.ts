import type { Logger } from 'pino';
import type { Database } from '../db/client';
import { ValidationError } from '../domain/errors';
import { withFailureMapping } from './failures';
import { createMarketDataActivities } from './market-data';
import { createRetrainingActivities } from './retraining';
import { createRiskActivities, type RiskDeps } from './risk';
import { createTradingActivities, type TradingDeps } from './trading';

export interface ActivityDeps {
  db: Database;
  trading: Omit<TradingDeps, 'db'>;
  risk: Omit<RiskDeps, 'db'>;
  logger?: Logger;
}

/** All activities, built from explicit dependencies (no module-level singletons). */
export function createActivities(deps: ActivityDeps) {
  const risk = createRiskActivities({ db: deps.db, ...deps.risk });
  const trading = createTradingActivities({ db: deps.db, ...deps.trading });
  // Every venue call feeds the error-rate breaker; a venue failure still fails the activity.
  const counted = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    try {
      const result = await fn(...args);
      await risk.recordVenueRequest(false);
      return result;
    } catch (err) {
      if (!(err instanceof ValidationError)) await risk.recordVenueRequest(true);
      throw err;
    }
  };
  return withFailureMapping({
    ...createMarketDataActivities(deps),
    ...trading,
    submitOrder: counted(trading.submitOrder),
    cancelOrder: counted(trading.cancelOrder),
    ...risk,
    ...createRetrainingActivities({ db: deps.db }),
  }, deps.logger);
}

export type Activities = ReturnType<typeof createActivities>;
