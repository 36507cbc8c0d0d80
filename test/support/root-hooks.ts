import { teardownHarness } from './harness';

// Integration services start lazily (first getHarness()) and stop once, after the whole run.
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await teardownHarness();
  },
};
