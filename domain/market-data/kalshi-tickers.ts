/**
 * Kalshi ticker naming: the series is the ticker's first segment (our signal category) and the event
 * is the ticker without its last segment (related markets; risk caps per event).
 */
export const kalshiCategory = (market: string) => market.split('-')[0]!.toLowerCase();
export const kalshiEvent = (market: string) => (market.includes('-') ? market.slice(0, market.lastIndexOf('-')) : market);
