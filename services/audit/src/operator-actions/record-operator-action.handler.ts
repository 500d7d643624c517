import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OperatorActionTaken } from '@am/contracts';
import { InvalidMessageError, type MessageContext } from '@am/messaging';

/**
 * Stores each `operator.action` in `operator_actions`, once (the inbox, then the message id as the key). A record
 * must come from the service it names: the AMQP `user-id` is the publishing account, checked by the broker, so a
 * service cannot write an action into another service's name; a record that tries is dead-lettered with the reason.
 */
@Controller()
export class RecordOperatorActionHandler {
  @EventPattern<string>(OperatorActionTaken.type)
  async record(@Payload() event: OperatorActionTaken, @Ctx() ctx: MessageContext): Promise<void> {
    const { action, operator, service, target, details } = event.data;
    if (ctx.sender !== service) {
      throw new InvalidMessageError(
        `operator.action names service ${service} but was sent by ${ctx.sender ?? '(no user-id)'}`,
      );
    }
    await ctx.manager.query(
      `INSERT INTO operator_actions (message_id, action, operator, service, target, details, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id) DO NOTHING`,
      [event.messageId, action, operator, service, target ?? null, jsonOrText(details), event.occurredAt],
    );
  }
}

/** The details as JSON for the jsonb column; text that is not JSON (cut at the schema's limit) is kept as text. */
function jsonOrText(details: string): string {
  try {
    JSON.parse(details);
    return details;
  } catch {
    return JSON.stringify({ text: details });
  }
}
