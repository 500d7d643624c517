import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { UserRegistered, causedBy } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { runAccountCommand } from '../accounts/account-command.runner.js';

/**
 * Opens an account for every registered user: stream id = user id, the user's name on the account. Opening an
 * account that is open already is refused by the decider and ignored here, so a second `user.registered` for
 * the same user (another message id, which the inbox cannot catch) changes nothing. `user.registered` v1 comes
 * here upcast to v2 (`Ann Lee` → `Ann` + `Lee`), so the account gets the same full name from either version.
 */
@Controller()
export class OpenAccountHandler {
  @EventPattern<string>(UserRegistered.type)
  async handle(@Payload() event: UserRegistered, @Ctx() ctx: MessageContext): Promise<void> {
    const { userId, firstName, lastName } = event.data;
    const name = [firstName, lastName].filter(Boolean).join(' ');
    const outcome = await runAccountCommand(
      ctx.manager,
      { type: 'OpenAccount', data: { accountId: userId, name } },
      { origin: causedBy(event) },
    );
    if (!outcome.ok && outcome.error.code !== 'already_opened') throw new Error(outcome.error.message);
  }
}
