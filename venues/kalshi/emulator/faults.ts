import { z } from 'zod';
import type { EmulatorWsControl } from './types';

/**
 * Faults to inject, as the admin endpoint (`POST /_emulator/faults`), the CLI flags and the
 * programmatic API take them. Counts are "the next N requests"; they add to what is pending.
 */
export const faultPlanSchema = z
  .object({
    /** The next N REST requests get 429 with Kalshi's error body. */
    rate_limit: z.number().int().min(0).max(1_000_000).optional(),
    /** The next N REST requests get a 5xx. */
    server_errors: z.number().int().min(0).max(1_000_000).optional(),
    server_error_status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
    /** The next N order creations are executed but their response is lost. */
    lose_order_responses: z.number().int().min(0).max(1_000).optional(),
    /** The next N order amendments are executed but their response is lost. */
    lose_amend_responses: z.number().int().min(0).max(1_000).optional(),
    /** `destroy`: the socket is reset; `hang`: no response until the client gives up (or the server closes). */
    lose_mode: z.enum(['destroy', 'hang']).optional(),
    /** Pauses (true) or resumes (false) trading: /exchange/status says so and order endpoints refuse. */
    pause_trading: z.boolean().optional(),
    /** Closes every WebSocket connection now. */
    ws_disconnect: z.boolean().optional(),
    /** Silently drops the next N sequenced WebSocket data messages. */
    ws_drop_messages: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();
export type FaultPlan = z.infer<typeof faultPlanSchema>;

export interface FaultCounters {
  rateLimited: number;
  serverErrors: number;
  lostResponses: number;
  lostAmendResponses: number;
  wsDisconnects: number;
  wsDropsRequested: number;
}

/** Pending REST faults and what has been injected (the WS faults go straight to the WS server). */
export class EmulatorFaults {
  private pending429 = 0;
  private pending5xx = 0;
  private serverErrorStatus = 503;
  private pendingLost = 0;
  private pendingLostAmends = 0;
  private loseMode: 'destroy' | 'hang' = 'destroy';
  readonly injected: FaultCounters = { rateLimited: 0, serverErrors: 0, lostResponses: 0, lostAmendResponses: 0, wsDisconnects: 0, wsDropsRequested: 0 };

  constructor(
    private readonly log: (line: string) => void,
    private readonly setPaused: (paused: boolean) => void,
    private readonly ws: () => EmulatorWsControl | undefined,
  ) {}

  /** Applies a plan; returns what is pending afterwards. */
  apply(plan: FaultPlan): ReturnType<EmulatorFaults['pending']> {
    if (plan.rate_limit) this.pending429 += plan.rate_limit;
    if (plan.server_error_status) this.serverErrorStatus = plan.server_error_status;
    if (plan.server_errors) this.pending5xx += plan.server_errors;
    if (plan.lose_mode) this.loseMode = plan.lose_mode;
    if (plan.lose_order_responses) this.pendingLost += plan.lose_order_responses;
    if (plan.lose_amend_responses) this.pendingLostAmends += plan.lose_amend_responses;
    if (plan.pause_trading !== undefined) {
      this.setPaused(plan.pause_trading);
      this.log(`fault: trading ${plan.pause_trading ? 'paused' : 'resumed'}`);
    }
    if (plan.ws_disconnect) {
      const closed = this.ws()?.disconnectAll('emulator fault: disconnect') ?? 0;
      this.injected.wsDisconnects += closed;
      this.log(`fault: disconnected ${closed} WebSocket client(s)`);
    }
    if (plan.ws_drop_messages) {
      this.ws()?.dropNextMessages(plan.ws_drop_messages);
      this.injected.wsDropsRequested += plan.ws_drop_messages;
      this.log(`fault: dropping the next ${plan.ws_drop_messages} WebSocket data message(s)`);
    }
    return this.pending();
  }

  pending() {
    return { rate_limit: this.pending429, server_errors: this.pending5xx, server_error_status: this.serverErrorStatus, lose_order_responses: this.pendingLost, lose_amend_responses: this.pendingLostAmends, lose_mode: this.loseMode };
  }

  /** The status of an injected failure for this request, if one is pending (5xx before 429). */
  takeRequestFault(request: string): 429 | 500 | 502 | 503 | 504 | undefined {
    if (this.pending5xx > 0) {
      this.pending5xx--;
      this.injected.serverErrors++;
      this.log(`fault: ${this.serverErrorStatus} for ${request} (${this.pending5xx} more pending)`);
      return this.serverErrorStatus as 500 | 502 | 503 | 504;
    }
    if (this.pending429 > 0) {
      this.pending429--;
      this.injected.rateLimited++;
      this.log(`fault: 429 for ${request} (${this.pending429} more pending)`);
      return 429;
    }
    return undefined;
  }

  /** Whether this order write's response (a create or an amend) is to be lost, and how. */
  takeLostResponse(request: string, orderIds: string[], write: 'create' | 'amend' = 'create'): 'destroy' | 'hang' | undefined {
    if (write === 'create') {
      if (this.pendingLost <= 0) return undefined;
      this.pendingLost--;
      this.injected.lostResponses++;
    } else {
      if (this.pendingLostAmends <= 0) return undefined;
      this.pendingLostAmends--;
      this.injected.lostAmendResponses++;
    }
    this.log(`fault: ${request} executed (order ${orderIds.join(', ')}) but its response is lost (${this.loseMode})`);
    return this.loseMode;
  }
}
