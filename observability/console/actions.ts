import { z } from 'zod';
import type { Database } from '../../db/client';
import { consoleActions } from '../../db/schema';
import { URGENCIES } from '../../domain/trading/exits';
import { describeIssues } from '../../domain/validation';

/**
 * What the console's actions do, wired by the process that serves it (cli/console.ts) to the same
 * functions the CLI commands call; observability/ cannot reach workflows or the runtime itself.
 */
export interface ConsoleActionPorts {
  /** The position workflow's `requestExit` Update (its validator's refusal is an ActionRejected). */
  requestExit(positionId: string, urgency: (typeof URGENCIES)[number], reason: string): Promise<{ positionId: string; urgency: string }>;
  /** runtime/flatten.ts: a CRITICAL exit for every position that may hold contracts. */
  flattenAll(reason: string): Promise<string[]>;
  /** Cancels every order of Kestrel's still resting at the execution venue. */
  cancelAll(reason: string): Promise<{ cancelled: string[]; failed: { clientOrderId: string; error: string }[] }>;
  startStrategy(name: string, version: string | undefined): Promise<{ workflowId: string; version: string; status: string }>;
  stopStrategy(workflowId: string): Promise<{ workflowId: string; openPositions: number }>;
  resetRisk(reason: string): Promise<void>;
  /** Startable strategy versions, for the start form. */
  strategies(): Promise<{ name: string; version: string; status: string }[]>;
}

/** The engine refused the action (an Update validator, a stopped run, an unknown strategy): shown as it is, recorded as `rejected`. */
export class ActionRejected extends Error {}

const reason = z.string().trim().min(1, 'a reason is required').max(160);
export const actionSchemas = {
  // The Update's validator takes reasons up to 200 characters, operator and `via console` included.
  exit: z.object({ positionId: z.string().min(1).max(300), urgency: z.enum(URGENCIES), reason: z.string().trim().min(1).max(120).optional() }),
  'flatten-all': z.object({ reason, confirm: z.literal('FLATTEN', { error: 'type FLATTEN to confirm' }) }),
  'cancel-all': z.object({ reason, confirm: z.literal('CANCEL', { error: 'type CANCEL to confirm' }) }),
  'strategy-start': z.object({ name: z.string().trim().min(1).max(80), version: z.string().trim().max(40).optional() }),
  'strategy-stop': z.object({ workflowId: z.string().min(1).max(300) }),
  'risk-reset': z.object({ reason }),
} as const;
export type ConsoleActionName = keyof typeof actionSchemas;
export const ACTION_NAMES = Object.keys(actionSchemas) as ConsoleActionName[];

export interface ActionResult {
  outcome: 'ok' | 'rejected' | 'failed';
  message: string;
  result?: unknown;
}

/**
 * Validates and runs one console action, and records it (who, from where, what, on what, the
 * outcome) in console_actions, whatever the outcome; bad input is refused before anything runs.
 */
export async function runConsoleAction(db: Database, ports: ConsoleActionPorts, who: { operator: string; remoteAddress: string | undefined }, name: string, body: unknown): Promise<ActionResult & { status: number }> {
  if (!(ACTION_NAMES as string[]).includes(name)) return { status: 404, outcome: 'rejected', message: `unknown action ${JSON.stringify(name)}; known: ${ACTION_NAMES.join(', ')}` };
  const action = name as ConsoleActionName;
  const parsed = actionSchemas[action].safeParse(body);
  if (!parsed.success) return { status: 400, outcome: 'rejected', message: describeIssues(parsed.error.issues) };
  const input = parsed.data as Record<string, string | undefined>;
  const by = `${who.operator} via console`;
  let target: string | null = null;
  let result: ActionResult;
  try {
    switch (action) {
      case 'exit': {
        target = input.positionId!;
        const r = await ports.requestExit(target, input.urgency as (typeof URGENCIES)[number], `${by}${input.reason ? `: ${input.reason}` : ''}`);
        result = { outcome: 'ok', message: `${r.urgency} exit accepted by ${r.positionId}`, result: r };
        break;
      }
      case 'flatten-all': {
        const signaled = await ports.flattenAll(`flatten-all (${by}): ${input.reason}`);
        result = { outcome: 'ok', message: signaled.length ? `CRITICAL exit requested for ${signaled.length} position(s)` : 'no open positions', result: { signaled } };
        break;
      }
      case 'cancel-all': {
        const r = await ports.cancelAll(`${by}: ${input.reason}`);
        result = { outcome: r.failed.length ? 'failed' : 'ok', message: `cancelled ${r.cancelled.length} resting order(s)${r.failed.length ? `; ${r.failed.length} failed: ${r.failed.map((f) => `${f.clientOrderId}: ${f.error}`).join('; ')}` : ''}`, result: r };
        break;
      }
      case 'strategy-start': {
        target = input.name!;
        const r = await ports.startStrategy(target, input.version || undefined);
        result = { outcome: 'ok', message: `started ${r.workflowId} (${r.version}, ${r.status})`, result: r };
        break;
      }
      case 'strategy-stop': {
        target = input.workflowId!;
        const r = await ports.stopStrategy(target);
        result = { outcome: 'ok', message: `stopped ${r.workflowId}; ${r.openPositions} open position(s) keep running to their exits`, result: r };
        break;
      }
      case 'risk-reset': {
        await ports.resetRisk(`${by}: ${input.reason}`);
        result = { outcome: 'ok', message: 'risk state reset: mode ACTIVE, breakers cleared' };
        break;
      }
    }
  } catch (e) {
    result = { outcome: e instanceof ActionRejected ? 'rejected' : 'failed', message: (e as Error).message };
  }
  await db.insert(consoleActions).values({ actor: who.operator, remoteAddress: who.remoteAddress ?? null, action, target, params: input, outcome: result.outcome, message: result.message });
  return { ...result, status: result.outcome === 'ok' ? 200 : result.outcome === 'rejected' ? 409 : 500 };
}
