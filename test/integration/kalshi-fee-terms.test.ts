import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { configuredFees } from '../../config/fees';
import { resolveConfig } from '../../config/load';
import { takerFeeRate } from '../../domain/trading/taker-fee';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import { KalshiInstrumentProvider } from '../../venues/kalshi/providers';
import { KalshiRestClient } from '../../venues/kalshi/rest-client';
import { GOLD_DATA_DIR } from '../support/kalshi-openapi';

const MARKET = 'KXGOLD15M-26AUG101800-00';

describe("Kalshi fee terms: a market's taker rate from its series metadata (emulator)", function () {
  this.timeout(60_000);
  let emu: KalshiEmulator | undefined;
  after(() => emu?.close());

  it('reads the series fee_type and fee_multiplier once per event and prices the taker rate from them', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    emu = await startKalshiEmulator({ dataDir: GOLD_DATA_DIR, markets: [MARKET], speed: 0, accounts: [{ apiKeyId: 'fees', publicKey }] });
    const rest = new KalshiRestClient({ baseUrl: emu.restUrl, clock: { nowMs: () => Date.now() }, limits: { read: { refillPerSecond: 200, capacity: 200 }, write: { refillPerSecond: 100, capacity: 100 } } });
    const provider = new KalshiInstrumentProvider(rest);
    const fees = await provider.marketFees(MARKET, 0);
    assert.equal(fees?.feeType, 'quadratic_with_maker_fees');
    assert.equal(fees?.multiplier.toString(), '1');
    assert.equal(await provider.marketFees(MARKET, 1000), fees, 'cached within the max age');
    const { config } = resolveConfig({ inline: { 'paper.seriesFeeMultiplier': '3' } });
    // The venue's multiplier (1), not the configured fallback (3).
    assert.equal(takerFeeRate(configuredFees(config), fees).toString(), config.fees.kalshiTakerRate.toString());
  });
});
