export * from './config';
export * from './market-data';
export * from './trading';
export * from './versions';
export * from './risk';
export * from './signals';
export * from './sports';
export * from './reconciliation';
