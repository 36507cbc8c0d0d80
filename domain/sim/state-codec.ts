import { z } from 'zod';
import { Dec, decimalString } from '../decimal';
import { describeIssues } from '../validation';
import type { SimMarketState, SimOrderState } from './matching';

/**
 * The paper exchange's state as JSON text, for a store other processes read: prices and sizes as
 * the engine's integer units, fees and fee balances as decimal strings. Decoding validates every
 * field and throws with what is wrong: the text comes from outside the process.
 */
const units = z.number().int().nonnegative();

const orderSchema = z.object({
  request: z.object({
    clientOrderId: z.string().min(1),
    market: z.string().min(1),
    outcome: z.enum(['yes', 'no']),
    action: z.enum(['buy', 'sell']),
    limitPrice: z.number().int(),
    size: z.number().int(),
    tif: z.enum(['gtc', 'ioc', 'fok']),
    postOnly: z.boolean().optional(),
  }),
  status: z.enum(['resting', 'filled', 'canceled', 'rejected']),
  filled: units,
  fills: z.array(z.object({ clientOrderId: z.string().min(1), price: units, size: units, liquidity: z.enum(['taker', 'maker']), fee: decimalString, tsMs: z.number() })),
  queueAhead: units,
  rejectReason: z.string().optional(),
  createdMs: z.number(),
});

const marketSchema = z.object({
  orders: z.array(orderSchema),
  consumed: z.array(z.object({ side: z.enum(['yes', 'no']), price: units, consumed: units, recordedSize: units })),
  feeBalances: z.array(z.object({ clientOrderId: z.string().min(1), balance: decimalString })),
});

type OrderJson = z.infer<typeof orderSchema>;

const orderToJson = (o: SimOrderState): OrderJson => ({ ...o, request: { ...o.request }, fills: o.fills.map((f) => ({ ...f, fee: f.fee.toString() })) });
const orderFromJson = (o: OrderJson): SimOrderState => ({ ...o, fills: o.fills.map((f) => ({ ...f, fee: new Dec(f.fee) })) });

function parse<T extends z.ZodType>(schema: T, text: string, what: string): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${what} is malformed: ${describeIssues(parsed.error.issues, 5)}`);
  return parsed.data;
}

export function encodeSimOrder(order: SimOrderState): string {
  return JSON.stringify(orderToJson(order));
}

export function decodeSimOrder(text: string): SimOrderState {
  return orderFromJson(parse(orderSchema, text, 'paper order state'));
}

export function encodeSimMarket(state: SimMarketState): string {
  return JSON.stringify({ orders: state.orders.map(orderToJson), consumed: state.consumed, feeBalances: state.feeBalances.map((b) => ({ clientOrderId: b.clientOrderId, balance: b.balance.toString() })) });
}

export function decodeSimMarket(text: string): SimMarketState {
  const m = parse(marketSchema, text, 'paper market state');
  return { orders: m.orders.map(orderFromJson), consumed: m.consumed, feeBalances: m.feeBalances.map((b) => ({ clientOrderId: b.clientOrderId, balance: new Dec(b.balance) })) };
}
