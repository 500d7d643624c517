// The event-sourced account of the article ("Event sourcing"), as plain data: its events, the commands that
// may produce them, the state they fold into, and the reasons a command is refused. No framework, no I/O.
// Amounts are integers in cents.

/** Something that happened to an account. Past tense; the stored `type` is the article's name. */
export type AccountEvent =
  | { type: 'AccountOpened'; data: { accountId: string; name: string } }
  | { type: 'MoneyDeposited'; data: { accountId: string; amount: number; orderId?: string } }
  | { type: 'MoneyWithdrawn'; data: { accountId: string; amount: number; orderId?: string } }
  | { type: 'AccountClosed'; data: { accountId: string; reason: string } };

/** What someone asks of an account. Imperative; a command may be refused, an event never is. */
export type AccountCommand =
  | { type: 'OpenAccount'; data: { accountId: string; name: string } }
  | { type: 'Deposit'; data: { accountId: string; amount: number; orderId?: string } }
  | { type: 'Withdraw'; data: { accountId: string; amount: number; orderId?: string } }
  | { type: 'CloseAccount'; data: { accountId: string; reason: string } };

/** The current state of one account: what the events say, folded left to right. */
export type AccountState =
  { exists: false } | { exists: true; id: string; name: string; balance: number; isOpen: boolean };

/** Why a command was refused. The first three are also the `payment.failed` reasons of the saga. */
export type AccountErrorCode =
  'no_account' | 'account_closed' | 'insufficient_funds' | 'invalid_amount' | 'already_opened';

/** A refused command: a value, not an exception, so that callers must decide what each refusal means. */
export interface AccountError {
  code: AccountErrorCode;
  message: string;
}

/** The outcome of a decision: the new events (possibly none), or why there are none. */
export type Decision = { ok: true; events: AccountEvent[] } | { ok: false; error: AccountError };
