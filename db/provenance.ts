import { sql } from 'drizzle-orm';
import type { Database } from './client';

export interface OrderExplanation {
  clientOrderId: string;
  purpose: string;
  market: string;
  action: string;
  outcome: string;
  limitPrice: string;
  size: string;
  status: string;
  filled: string;
  submittedAt: string;
  position: { id: string; status: string; entryPrice: string | null; realizedPnl: string };
  strategy: { name: string; version: string; config: unknown } | null;
  /** The model version recorded on the position, and its weight for the signal's type and category (exact, else the type's `*` row). */
  model: { id: number; name: string; version: string; parameters: unknown; weight: ModelWeight | null } | null;
  signalId: string | null;
  /** The recorded signal behind the entry: its type, reason and inputs (a model-edge signal's probability, ask, edge and model). */
  signal: { type: string; category: string; firedAt: string; reason: string | null; inputs: unknown } | null;
  exitReason: { exitNo: number; reason: string; urgency: string; triggered: unknown } | null;
  marketSnapshot: { id: number; status: string; effectiveTs: string; attributes: unknown } | null;
}

/** One row of a model version's `weights` (signal-weights fits, the momentum rule): at least these keys. */
export interface ModelWeight {
  type: string;
  category: string;
  weight: number;
  [key: string]: unknown;
}

/** The weight a model version's parameters give a signal type in a category: the exact row, else the type's `*` row (as the actionable filter looks it up). */
export function modelWeight(parameters: unknown, type: string, category: string): ModelWeight | null {
  const weights = (parameters as { weights?: unknown } | null)?.weights;
  if (!Array.isArray(weights)) return null;
  const rows = weights.filter((w): w is ModelWeight => typeof w === 'object' && w !== null && typeof (w as ModelWeight).type === 'string' && typeof (w as ModelWeight).category === 'string' && typeof (w as ModelWeight).weight === 'number');
  return rows.find((w) => w.type === type && w.category === category) ?? rows.find((w) => w.type === type && w.category === '*') ?? null;
}

/** "Why did this order happen?": the order, its position, versions, signal, exit decision and market snapshot. */
export async function explainOrder(db: Database, clientOrderId: string): Promise<OrderExplanation | undefined> {
  const rows = await db.execute<Record<string, unknown>>(sql`
    select o.client_order_id, o.purpose, o.market_ticker, o.action, o.outcome, o.limit_price, o.size, o.status, o.filled_size, o.submitted_at,
           p.position_id, p.status as position_status, p.entry_price, p.realized_pnl, p.signal_id,
           sv.strategy_name, sv.version as strategy_version, sv.config,
           mv.id as model_version_id, mv.model_name, mv.version as model_version, mv.parameters,
           ms.id as snapshot_id, ms.status as snapshot_status, ms.effective_ts, ms.attributes,
           pe.exit_no, pe.reason as exit_reason, pe.urgency, pe.triggered,
           s.type as signal_type, s.category as signal_category, s.fired_at as signal_fired_at, s.inputs as signal_inputs
    from orders o
    join positions p on p.position_id = o.position_id
    left join strategy_versions sv on sv.id = p.strategy_version_id
    left join model_versions mv on mv.id = p.model_version_id
    left join market_snapshots ms on ms.id = o.market_snapshot_id
    -- Engine signals are referred to as signal:<id>, model-edge signals by their key (both indexed).
    left join lateral (
      select type, category, fired_at, inputs from signals
      where signal_key = p.signal_id or id = (case when p.signal_id ~ '^signal:[0-9]+$' then substring(p.signal_id from 8)::bigint end)
      limit 1
    ) s on true
    left join exit_attempts ea on ea.client_order_id = o.client_order_id
    left join position_exits pe on pe.position_id = ea.position_id and pe.exit_no = ea.exit_no
    where o.client_order_id = ${clientOrderId}`);
  const r = rows[0];
  if (!r) return undefined;
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
  return {
    clientOrderId,
    purpose: String(r.purpose),
    market: String(r.market_ticker),
    action: String(r.action),
    outcome: String(r.outcome),
    limitPrice: String(r.limit_price),
    size: String(r.size),
    status: String(r.status),
    filled: String(r.filled_size),
    submittedAt: iso(r.submitted_at),
    position: { id: String(r.position_id), status: String(r.position_status), entryPrice: (r.entry_price as string | null) ?? null, realizedPnl: String(r.realized_pnl) },
    strategy: r.strategy_name ? { name: String(r.strategy_name), version: String(r.strategy_version), config: r.config } : null,
    model: r.model_name ? { id: Number(r.model_version_id), name: String(r.model_name), version: String(r.model_version), parameters: r.parameters, weight: r.signal_type ? modelWeight(r.parameters, String(r.signal_type), String(r.signal_category)) : null } : null,
    signalId: (r.signal_id as string | null) ?? null,
    signal: r.signal_type ? { type: String(r.signal_type), category: String(r.signal_category), firedAt: iso(r.signal_fired_at), reason: ((r.signal_inputs as { reason?: string } | null)?.reason as string | undefined) ?? null, inputs: r.signal_inputs } : null,
    exitReason: r.exit_no === null || r.exit_no === undefined ? null : { exitNo: Number(r.exit_no), reason: String(r.exit_reason), urgency: String(r.urgency), triggered: r.triggered },
    marketSnapshot: r.snapshot_id === null || r.snapshot_id === undefined ? null : { id: Number(r.snapshot_id), status: String(r.snapshot_status), effectiveTs: iso(r.effective_ts), attributes: r.attributes },
  };
}
