import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, type Caller, CurrentCaller, parseRequest, requireOwnAccount } from '@am/messaging';
import { runAccountCommand } from '../accounts/account-command.runner.js';
import type { AccountError } from '../accounts/account.events.js';
import { parseAccountId } from '../accounts/account-id.param.js';
import { DepositRequest } from './deposit.request.js';

/**
 * `POST /accounts/:userId/deposits {amount}` → `{balance}`: the command side (pattern: CQRS). Appends a
 * `MoneyDeposited` to the account's stream, updates the read model and puts the event in the outbox, in one
 * transaction. The balance in the answer is the state the decision was made on, not a read-model lookup.
 */
@Controller('accounts')
export class DepositController {
  constructor(private readonly db: DataSource) {}

  @Post(':userId/deposits')
  @Access('customer', 'service')
  async deposit(
    @Param('userId') userId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<{ balance: number }> {
    requireOwnAccount(caller, userId);
    const accountId = parseAccountId(userId);
    const { amount } = parseRequest(DepositRequest, body);
    const outcome = await this.db.transaction((manager) =>
      runAccountCommand(
        manager,
        { type: 'Deposit', data: { accountId, amount } },
        { origin: { correlationId: randomUUID() } },
      ),
    );
    if (!outcome.ok) throw httpError(outcome.error);
    return { balance: outcome.state.exists ? outcome.state.balance : 0 };
  }
}

function httpError(error: AccountError): Error {
  switch (error.code) {
    case 'no_account':
      return new NotFoundException(error.message);
    case 'account_closed':
      return new ConflictException(error.message);
    case 'invalid_amount':
    case 'insufficient_funds':
    case 'already_opened':
      return new BadRequestException(error.message);
    default: {
      const _exhaustive: never = error.code;
      return _exhaustive;
    }
  }
}
