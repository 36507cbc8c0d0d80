import { loadBootstrapConfig } from '../../config/load';
import { explainOrder } from '../../db/provenance';
import { CommandInputError, EXIT, err, json, out, withDatabase, type CliCommand } from './cli-support';

export const whyCommand: CliCommand = {
  summary: 'explain an order end to end: position, strategy/model version, signal, exit decision, market snapshot',
  usage: 'kestrel why <client-order-id> [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const [id] = positionals;
    if (!id) throw new CommandInputError('usage: kestrel why <client-order-id>');
    const { config } = loadBootstrapConfig();
    return withDatabase(config.database.url, async (h) => {
      const why = await explainOrder(h.db, id);
      if (!why) {
        err(`kestrel why: no order with client order id ${JSON.stringify(id)}`);
        return EXIT.failure;
      }
      if (values.json) json(why);
      else {
        out(`${why.clientOrderId}: ${why.purpose} ${why.action} ${why.outcome.toUpperCase()} ${why.size} ${why.market} @ ${why.limitPrice} → ${why.status}, filled ${why.filled} (${why.submittedAt})`);
        out(`  position  ${why.position.id} (${why.position.status}, entry ${why.position.entryPrice ?? '-'}, P&L ${why.position.realizedPnl})`);
        out(`  strategy  ${why.strategy ? `${why.strategy.name} ${why.strategy.version} ${JSON.stringify(why.strategy.config)}` : '(not recorded)'}`);
        out(`  model     ${why.model ? `${why.model.name} ${why.model.version} (#${why.model.id})` : '(not recorded)'}`);
        if (why.model && why.signal) out(`  weight    ${why.model.weight ? `${why.model.weight.weight} for ${why.model.weight.type}/${why.model.weight.category} ${JSON.stringify(why.model.weight)}` : `(the model has no weight for ${why.signal.type}/${why.signal.category})`}`);
        out(`  signal    ${why.signalId ?? '(none)'}${why.signal ? ` (${why.signal.type}/${why.signal.category} at ${why.signal.firedAt}${why.signal.reason ? `: ${why.signal.reason}` : ''})` : ''}`);
        if (why.exitReason) out(`  exit      #${why.exitReason.exitNo} ${why.exitReason.reason} (${why.exitReason.urgency}); triggered ${JSON.stringify(why.exitReason.triggered)}`);
        out(`  market    ${why.marketSnapshot ? `snapshot #${why.marketSnapshot.id} (${why.marketSnapshot.status}, since ${why.marketSnapshot.effectiveTs})` : '(no snapshot)'}`);
      }
      return EXIT.ok;
    });
  },
};
