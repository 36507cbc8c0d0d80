import type { ClobSigner } from '@polymarket/clob-client';
import type { TypedDataDefinition } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

/**
 * A signer for the official client from a private key (viem, the client's own dependency, signs
 * locally: no node connection). The client hands it EIP-712 data without the primary type; each
 * request it signs (an order, the API-key derivation) names exactly one struct type, which is it.
 */
export function polymarketSignerFromKey(privateKey: `0x${string}`): { signer: ClobSigner; address: string } {
  const account = privateKeyToAccount(privateKey);
  const signer: ClobSigner = {
    getAddress: () => Promise.resolve(account.address),
    _signTypedData: (domain, types, value) => {
      const structs = Object.keys(types);
      if (structs.length !== 1) throw new Error(`expected one EIP-712 struct type to sign, got ${structs.join(', ') || 'none'}`);
      const definition = { domain, types, primaryType: structs[0]!, message: value } as unknown as TypedDataDefinition;
      return account.signTypedData(definition);
    },
  };
  return { signer, address: account.address };
}
