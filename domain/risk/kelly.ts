import { Dec } from '../decimal';
import { kalshiFee } from '../fees';

/**
 * Kelly sizing for a binary contract bought at `price` that pays $1 with probability `p`:
 * edge = p − price − fee per contract; full Kelly fraction f* = edge / (1 − price − fee);
 * the stake is `kellyFraction` × f* × capital, in contracts, capped by `maxContracts`.
 */
export function kellyContracts(args: { probability: Dec; price: Dec; capital: Dec; kellyFraction: Dec; takerRate: Dec; maxContracts: Dec }): { contracts: Dec; edge: Dec; fullKelly: Dec } {
  const { probability, price, capital, kellyFraction, takerRate, maxContracts } = args;
  if (price.lte(0) || price.gte(1)) throw new Error(`price ${price.toString()} outside (0, 1)`);
  if (probability.lt(0) || probability.gt(1)) throw new Error(`probability ${probability.toString()} outside [0, 1]`);
  const feePerContract = kalshiFee({ contracts: new Dec(100), price, rate: takerRate }).div(100);
  const cost = price.plus(feePerContract);
  const edge = probability.minus(cost);
  if (edge.lte(0)) return { contracts: new Dec(0), edge, fullKelly: new Dec(0) };
  const fullKelly = edge.div(new Dec(1).minus(cost));
  const stake = capital.times(fullKelly).times(kellyFraction);
  const contracts = Dec.min(maxContracts, stake.div(cost)).toDecimalPlaces(0, Dec.ROUND_DOWN);
  return { contracts, edge, fullKelly };
}
