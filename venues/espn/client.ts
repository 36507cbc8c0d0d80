import { ESPN_PATHS, type GameDataSource } from '../../domain/sports/espn';
import type { League } from '../../domain/sports/games';

/**
 * ESPN's public site API (no key): `<base>/<sport>/<league>/scoreboard[?dates=YYYYMMDD]` and
 * `…/summary?event=<id>`. Returns the parsed JSON; shape checks are the parsers' job.
 */
export class EspnClient implements GameDataSource {
  constructor(private readonly opts: { baseUrl: string; timeoutMs?: number; paths?: Partial<Record<League, string>>; fetch?: typeof fetch }) {}

  private async get(url: string): Promise<unknown> {
    const res = await (this.opts.fetch ?? fetch)(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`ESPN ${url}: HTTP ${res.status}`);
    return res.json();
  }

  private leagueUrl(league: League): string {
    return `${this.opts.baseUrl.replace(/\/$/, '')}/${this.opts.paths?.[league] ?? ESPN_PATHS[league]}`;
  }

  scoreboard(league: League, date?: string): Promise<unknown> {
    return this.get(`${this.leagueUrl(league)}/scoreboard${date ? `?dates=${date.replace(/-/g, '')}` : ''}`);
  }

  summary(league: League, eventId: string): Promise<unknown> {
    return this.get(`${this.leagueUrl(league)}/summary?event=${encodeURIComponent(eventId)}`);
  }
}

export const ESPN_SITE_API = 'https://site.api.espn.com/apis/site/v2/sports';
