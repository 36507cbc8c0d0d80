import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { EntrySignal } from '../../domain/trading/strategy-rules';
import { SignalRouter } from '../../workers/signals/router';

const signal = (market: string, extra: Partial<EntrySignal> = {}): EntrySignal => ({ signalId: `${market}@1`, market, outcome: 'yes', modelProbability: '0.60', ask: '0.50', closeTimeMs: 10_000, reason: 'test', ...extra });

describe('signal router', () => {
  it("stamps each market's own taker fee rate on the signals it sends; unknown or failed terms leave the configured rate, nothing offered meanwhile is lost", async () => {
    const sent: { workflowId: string; signals: EntrySignal[] }[] = [];
    const temporal = { workflow: { getHandle: (workflowId: string) => ({ signal: async (_def: unknown, signals: EntrySignal[]) => void sent.push({ workflowId, signals }) }) } } as unknown as Pick<Client, 'workflow'>;
    const logs: string[] = [];
    const lookups: string[] = [];
    const router: SignalRouter = new SignalRouter({
      temporal,
      subscriptions: async () => [{ workflowId: 'strategy/a', signalTypes: [], categories: [] }],
      batchMs: 60_000,
      log: (l) => logs.push(l),
      takerFeeRate: async (market) => {
        lookups.push(market);
        // A signal offered while the fee terms are being read goes out with the next flush.
        if (market === 'A') router.offer(signal('LATE'));
        if (market === 'B') throw new Error('venue unreachable');
        return market === 'A' ? '0.0350' : undefined;
      },
    });
    router.offer(signal('A'));
    router.offer(signal('A', { signalId: 'A@2' }));
    router.offer(signal('B'));
    router.offer(signal('C'));
    router.offer(signal('D', { takerFeeRate: '0.0100' }));
    await router.flush();
    assert.deepEqual(lookups.sort(), ['A', 'B', 'C'], 'one lookup per market, none for a signal that carries its rate');
    assert.deepEqual(sent[0]!.signals.map((s) => [s.signalId, s.takerFeeRate]), [['A@1', '0.0350'], ['A@2', '0.0350'], ['B@1', undefined], ['C@1', undefined], ['D@1', '0.0100']]);
    assert.ok(logs.some((l) => l.includes('fee terms of B unavailable')));
    await router.close();
    assert.deepEqual(sent[1]!.signals.map((s) => s.signalId), ['LATE@1']);
  });
});
