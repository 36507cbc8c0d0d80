import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes so the Temporal UI can filter positions; registered by the dev server
// start (`kestrel up`) and by the test harness.
export const STRATEGY_KEY = defineSearchAttributeKey('KestrelStrategy', SearchAttributeType.KEYWORD);
export const MARKET_KEY = defineSearchAttributeKey('KestrelMarket', SearchAttributeType.KEYWORD);
export const STATUS_KEY = defineSearchAttributeKey('KestrelPositionStatus', SearchAttributeType.KEYWORD);
export const KESTREL_SEARCH_ATTRIBUTES = [STRATEGY_KEY, MARKET_KEY, STATUS_KEY];
