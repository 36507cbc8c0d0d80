import { defineSignal } from '@temporalio/workflow';

/** A position tells its strategy (the parent, whatever its current run) how it ended. */
export const positionFinishedSignal = defineSignal<[{ positionId: string; status: string; realizedPnl: string }]>('positionFinished');
