import { connectBus, type Bus } from '@tangerine/bus';
import { migrate, openLedger, type Ledger } from '@tangerine/ledger';
import type { BaseContext, Stop } from '@tangerine/runtime';

/** What a service that uses both the bus and the ledger receives. */
export interface ServiceContext extends BaseContext {
  readonly bus: Bus;
  readonly ledger: Ledger;
}

/** What an agent receives: agents talk only to NATS, never to the ledger. */
export interface AgentContext extends BaseContext {
  readonly bus: Bus;
}

/** Opens NATS (provisioning the streams) and PostgreSQL (applying migrations). */
export async function connectServices(base: BaseContext, name: string): Promise<{ ctx: ServiceContext; close: Stop }> {
  const bus = await connectBus({ url: base.config.natsUrl, name, log: base.log });
  const ledger = openLedger({ databaseUrl: base.config.databaseUrl, log: base.log, application: name });
  try {
    await migrate(ledger, base.log);
  } catch (err) {
    await bus.close();
    await ledger.close();
    throw err;
  }
  base.health['nats'] = () => !bus.nc.isClosed();
  base.metrics.gauge('ledger_statements', () => ledger.statements());
  return {
    ctx: { ...base, bus, ledger },
    close: async () => {
      await bus.close();
      await ledger.close();
    },
  };
}

export async function connectAgent(base: BaseContext, name: string): Promise<{ ctx: AgentContext; close: Stop }> {
  const bus = await connectBus({ url: base.config.natsUrl, name, log: base.log });
  base.health['nats'] = () => !bus.nc.isClosed();
  return { ctx: { ...base, bus }, close: () => bus.close() };
}
