import { BadRequestException, Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access } from '@am/messaging';

export interface AccountActivity {
  accounts: number;
  open: number;
  closed: number;
  deposits: number;
  /** In cents, as every amount. */
  deposited: number;
  withdrawals: number;
  withdrawn: number;
  /** deposited - withdrawn over every account: payments' balances summed, as seen through its event stream. */
  balance: number;
}

/** One account as the read model has it. */
export interface OneAccountActivity {
  accountId: string;
  opened: boolean;
  closed: boolean;
  deposits: number;
  deposited: number;
  withdrawals: number;
  withdrawn: number;
  balance: number;
}

interface ActivityRow {
  accounts: number;
  open: number;
  closed: number;
  deposits: number;
  deposited: string;
  withdrawals: number;
  withdrawn: string;
}

/** `GET /analytics/accounts`: the query side of the account activity read model (fed by `account-events`). */
@Controller('analytics')
export class AccountActivityController {
  constructor(private readonly db: DataSource) {}

  @Get('accounts')
  @Access('operator')
  async activity(): Promise<AccountActivity> {
    const [row] = await this.db.query<ActivityRow[]>(`
      SELECT count(*)::int                                          AS accounts,
             count(*) FILTER (WHERE opened AND NOT closed)::int     AS open,
             count(*) FILTER (WHERE closed)::int                    AS closed,
             coalesce(sum(deposits), 0)::int                        AS deposits,
             coalesce(sum(deposited), 0)::bigint                    AS deposited,
             coalesce(sum(withdrawals), 0)::int                     AS withdrawals,
             coalesce(sum(withdrawn), 0)::bigint                    AS withdrawn
        FROM account_activity`);
    const deposited = Number(row?.deposited ?? 0);
    const withdrawn = Number(row?.withdrawn ?? 0);
    return {
      accounts: row?.accounts ?? 0,
      open: row?.open ?? 0,
      closed: row?.closed ?? 0,
      deposits: row?.deposits ?? 0,
      deposited,
      withdrawals: row?.withdrawals ?? 0,
      withdrawn,
      balance: deposited - withdrawn,
    };
  }

  /** One account: what payments' event stream says it did (404 until its first event is projected). */
  @Get('accounts/:accountId')
  @Access('operator')
  async account(@Param('accountId') accountId: string): Promise<OneAccountActivity> {
    // The contracts' bounds of an account id; a longer one cannot exist, and answers 400 without a query.
    if (accountId.length < 1 || accountId.length > 64) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: ['accountId: must be 1 to 64 characters'],
      });
    }
    const [row] = await this.db.query<
      {
        opened: boolean;
        closed: boolean;
        deposits: number;
        deposited: string;
        withdrawals: number;
        withdrawn: string;
      }[]
    >(
      'SELECT opened, closed, deposits, deposited, withdrawals, withdrawn FROM account_activity WHERE account_id = $1',
      [accountId],
    );
    if (!row) throw new NotFoundException(`no activity for account ${accountId}`);
    const deposited = Number(row.deposited);
    const withdrawn = Number(row.withdrawn);
    return {
      accountId,
      opened: row.opened,
      closed: row.closed,
      deposits: row.deposits,
      deposited,
      withdrawals: row.withdrawals,
      withdrawn,
      balance: deposited - withdrawn,
    };
  }
}
