import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { findBalance, type AccountBalance } from '../accounts/account-balance.projection.js';
import { parseAccountId } from '../accounts/account-id.param.js';
import { Access, CurrentCaller, requireOwnAccount, type Caller } from '@am/messaging';

/**
 * `GET /accounts/:userId` → `{id,name,balance,isOpen,version}`: the query side (pattern: CQRS). One row of the
 * read model, no folding of events; `version` says how many events it reflects.
 */
@Controller('accounts')
export class GetAccountController {
  constructor(private readonly db: DataSource) {}

  @Get(':userId')
  @Access('customer', 'operator', 'service')
  async get(@Param('userId') userId: string, @CurrentCaller() caller: Caller): Promise<AccountBalance> {
    requireOwnAccount(caller, userId);
    const accountId = parseAccountId(userId);
    const account = await findBalance(this.db.manager, accountId);
    if (!account) throw new NotFoundException(`no account ${accountId}`);
    return account;
  }
}
