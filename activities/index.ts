import type { Database } from '../db/client';
import { withFailureMapping } from './failures';
import { createMarketDataActivities } from './market-data';
import { createRiskActivities, type RiskDeps } from './risk';
import { createTradingActivities, type TradingDeps } from './trading';

export interface ActivityDeps {
  db: Database;
  trading: Omit<TradingDeps, 'db'>;
  risk: Omit<RiskDeps, 'db'>;
}

/** All activities, built from explicit dependencies (no module-level singletons). */
export function createActivities(deps: ActivityDeps) {
  return withFailureMapping({
    ...createMarketDataActivities(deps),
    ...createTradingActivities({ db: deps.db, ...deps.trading }),
    ...createRiskActivities({ db: deps.db, ...deps.risk }),
  });
}

export type Activities = ReturnType<typeof createActivities>;
