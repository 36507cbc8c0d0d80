import type { Database } from '../db/client';
import { withFailureMapping } from './failures';
import { createMarketDataActivities } from './market-data';

export interface ActivityDeps {
  db: Database;
}

/** All activities, built from explicit dependencies (no module-level singletons). */
export function createActivities(deps: ActivityDeps) {
  return withFailureMapping({
    ...createMarketDataActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
