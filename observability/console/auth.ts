import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Where the console's token came from; without one the console is read-only. */
export interface ConsoleToken {
  token: string | undefined;
  source: 'KESTREL_CONSOLE_TOKEN' | 'KESTREL_CONSOLE_TOKEN_FILE' | 'none';
}

/** Tokens shorter than this are refused: the token is the only thing between a browser and flatten-all. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * The console token from KESTREL_CONSOLE_TOKEN, or the first line of the file KESTREL_CONSOLE_TOKEN_FILE
 * names (keeps it out of the process environment); neither set: read-only.
 */
export function loadConsoleToken(env: NodeJS.ProcessEnv, readFile: (path: string) => string): ConsoleToken {
  const inline = env.KESTREL_CONSOLE_TOKEN;
  const file = env.KESTREL_CONSOLE_TOKEN_FILE;
  if (inline && file) throw new Error('set KESTREL_CONSOLE_TOKEN or KESTREL_CONSOLE_TOKEN_FILE, not both');
  let token: string | undefined;
  let source: ConsoleToken['source'] = 'none';
  if (inline) [token, source] = [inline.trim(), 'KESTREL_CONSOLE_TOKEN'];
  else if (file) {
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      throw new Error(`KESTREL_CONSOLE_TOKEN_FILE ${file}: ${(e as Error).message}`);
    }
    [token, source] = [text.split('\n')[0]!.trim(), 'KESTREL_CONSOLE_TOKEN_FILE'];
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) throw new Error(`${source}: the console token must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 24)`);
  return { token, source };
}

export const SESSION_COOKIE = 'kestrel_console';
const OPERATOR = /^[\w.@-]{1,40}$/;

export interface ConsoleIdentity {
  /** Who acts: the name given at login, or `api` for a bearer-token client. */
  operator: string;
  /** cookie: a browser session (actions need its CSRF token); bearer: `Authorization: Bearer <token>` (not sent by browsers on their own). */
  via: 'cookie' | 'bearer';
  csrf: string;
}

interface Session {
  operator: string;
  csrf: string;
  expiresAtMs: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Constant-time comparison (of digests, so lengths do not leak either). */
export const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** Browser sessions (in memory: a restart logs everyone out) and the checks every request goes through. */
export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly token: string | undefined,
    private readonly opts: { ttlMs: number; nowMs: () => number },
  ) {}

  get readOnly(): boolean {
    return this.token === undefined;
  }

  /** A new session for `operator` when `token` is the console's; the cookie to set. */
  login(operator: string, token: string): { cookie: string; identity: ConsoleIdentity } | { error: string } {
    if (this.token === undefined) return { error: 'the console is read-only: no token is configured (KESTREL_CONSOLE_TOKEN or KESTREL_CONSOLE_TOKEN_FILE)' };
    if (!OPERATOR.test(operator)) return { error: 'operator: 1-40 letters, digits, . _ @ or -' };
    if (!sameSecret(token, this.token)) return { error: 'wrong token' };
    const id = randomBytes(32).toString('base64url');
    const session = { operator, csrf: randomBytes(24).toString('base64url'), expiresAtMs: this.opts.nowMs() + this.opts.ttlMs };
    this.sessions.set(id, session);
    const cookie = `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.opts.ttlMs / 1000)}`;
    return { cookie, identity: { operator, via: 'cookie', csrf: session.csrf } };
  }

  logout(req: IncomingMessage): string {
    const id = cookieOf(req, SESSION_COOKIE);
    if (id) this.sessions.delete(id);
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  /** Who sent the request: a live session cookie or the bearer token; undefined when neither. */
  identify(req: IncomingMessage): ConsoleIdentity | undefined {
    if (this.token === undefined) return undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return sameSecret(auth.slice(7).trim(), this.token) ? { operator: 'api', via: 'bearer', csrf: '' } : undefined;
    const id = cookieOf(req, SESSION_COOKIE);
    const session = id ? this.sessions.get(id) : undefined;
    if (!id || !session) return undefined;
    if (session.expiresAtMs <= this.opts.nowMs()) {
      this.sessions.delete(id);
      return undefined;
    }
    return { operator: session.operator, via: 'cookie', csrf: session.csrf };
  }

  /**
   * Why a state-changing request from this identity must be refused, or undefined: a browser
   * session must send its CSRF token (X-CSRF-Token) and, when the browser says where the request
   * came from, come from this origin.
   */
  csrfProblem(req: IncomingMessage, identity: ConsoleIdentity): string | undefined {
    if (identity.via === 'bearer') return undefined;
    const sent = req.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !sameSecret(sent, identity.csrf)) return 'missing or wrong CSRF token';
    return crossOrigin(req);
  }
}

/** A request a browser marks as coming from another site (Origin / Sec-Fetch-Site), or undefined. */
export function crossOrigin(req: IncomingMessage): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) return `cross-origin request refused (Origin ${origin})`;
  return undefined;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}
