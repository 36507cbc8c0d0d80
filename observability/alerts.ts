import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { type AlertRateLimiter, type Alert, type AlertSink } from '../domain/alerts';
import type { Clock } from '../domain/clock';

export interface AlertChannel {
  name: string;
  send(alert: Alert, suppressedBefore: number): Promise<void>;
}

const headline = (a: Alert, suppressed: number) => `[kestrel ${a.severity.toUpperCase()}] ${a.title}${suppressed > 0 ? ` (+${suppressed} similar alerts suppressed)` : ''}`;

/** Slack- and Discord-compatible webhook: Slack reads `text`, Discord reads `content`. */
export function webhookChannel(url: string, timeoutMs = 5000): AlertChannel {
  return {
    name: 'webhook',
    async send(alert, suppressed) {
      const text = `${headline(alert, suppressed)}\n${alert.detail}`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text, content: text.slice(0, 2000), kestrel: { ...alert, suppressedBefore: suppressed, at: new Date(alert.atMs).toISOString() } }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    },
  };
}

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  from: string;
  to: string[];
  user?: string;
  /** From the environment (KESTREL_SMTP_PASSWORD) only, never from config files. */
  password?: string;
}

export function smtpChannel(s: SmtpSettings): AlertChannel {
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    // Local relays often offer no TLS; never require it unless `secure`.
    ignoreTLS: !s.secure,
    auth: s.user ? { user: s.user, pass: s.password ?? '' } : undefined,
    connectionTimeout: 5000,
  });
  return {
    name: 'smtp',
    async send(alert, suppressed) {
      await transport.sendMail({ from: s.from, to: s.to, subject: headline(alert, suppressed), text: `${alert.detail}\n\nkind: ${alert.kind}\nkey: ${alert.key}\nat: ${new Date(alert.atMs).toISOString()}\n` });
    },
  };
}

/**
 * Sends alerts to every channel, rate-limited per key. Delivery never throws into the caller:
 * trading must not stop because a webhook is down; failures are logged.
 */
export function createAlerter(opts: { channels: AlertChannel[]; limiter: AlertRateLimiter; clock: Clock; logger: Logger }): AlertSink & { flush(): Promise<void> } {
  const inFlight = new Set<Promise<void>>();
  const sink = (input: Omit<Alert, 'atMs'>) => {
    const alert: Alert = { ...input, atMs: opts.clock.nowMs() };
    // A scheduled report is news, not a problem: logged at info.
    opts.logger[alert.severity === 'info' ? 'info' : 'warn']({ alert: { kind: alert.kind, key: alert.key, severity: alert.severity } }, `ALERT ${alert.title}: ${alert.detail}`);
    const admitted = opts.limiter.admit(`${alert.kind}:${alert.key}`, alert.atMs);
    if (!admitted.send) return;
    for (const channel of opts.channels) {
      const p = channel
        .send(alert, admitted.suppressedBefore)
        .catch((err: Error) => opts.logger.error({ channel: channel.name, err: err.message }, 'alert delivery failed'))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  };
  return Object.assign(sink, { flush: async () => void (await Promise.all([...inFlight])) });
}
