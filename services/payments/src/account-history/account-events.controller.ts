import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AccountEvent } from '../accounts/account.events.js';
import { evolve, initialAccountState } from '../accounts/account.evolve.js';
import { readStream } from '../accounts/account-event.store.js';
import { parseAccountId } from '../accounts/account-id.param.js';
import { Access, CurrentCaller, requireOwnAccount, type Caller } from '@am/messaging';

/** One entry of an account's history, with the balance it left behind. */
export interface AccountHistoryEntry {
  version: number;
  type: AccountEvent['type'];
  data: AccountEvent['data'];
  occurredAt: string;
  /** The balance after this event: the running sum that ends at the current balance. */
  balanceAfter: number;
}

/**
 * `GET /accounts/:userId/events`: the account's stream in order. It answers the question the article asks of a
 * state-based table, "how did the balance become 750?", by replaying the events with the decider's `evolve`.
 */
@Controller('accounts')
export class AccountEventsController {
  constructor(private readonly db: DataSource) {}

  @Get(':userId/events')
  @Access('customer', 'operator', 'service')
  async history(@Param('userId') userId: string, @CurrentCaller() caller: Caller): Promise<AccountHistoryEntry[]> {
    requireOwnAccount(caller, userId);
    const accountId = parseAccountId(userId);
    const stream = await readStream(this.db.manager, accountId);
    if (stream.length === 0) throw new NotFoundException(`no account ${accountId}`);
    let state = initialAccountState;
    return stream.map(({ version, event, occurredAt }) => {
      state = evolve(state, event);
      return {
        version,
        type: event.type,
        data: event.data,
        occurredAt: occurredAt.toISOString(),
        balanceAfter: state.exists ? state.balance : 0,
      };
    });
  }
}
