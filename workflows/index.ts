// Entry point for the Temporal worker's workflow bundle: every workflow type is exported here.
export { ingestTradeBatchWorkflow } from './ingest';
export { positionWorkflow } from './position';
export { strategyWorkflow } from './strategy';
export { retrainSignalWeightsWorkflow } from './retraining';
export { arbitrageBasketWorkflow } from './arbitrage';
