export * from './config';
export * from './market-data';
