import { OperatorActionTaken, newMessageId } from '@am/contracts';
import type { AmqpClient } from '../amqp/amqp-client.js';
import type { Caller } from '../auth/tokens.js';
import type { MessagingLogger } from '../logger.js';
import { publishFailure } from '../nest/http.js';
import { Exchanges } from '../topology.js';

/** What an operator is about to do, for the audit trail. */
export interface OperatorAction {
  /** `<area>.<verb>`: `fault.on`, `fault.off`, `dead-letter.replay`, ... */
  action: string;
  /** What it is done to: a queue, a topic, a dead letter id, a group. */
  target?: string | undefined;
  details?: Record<string, unknown>;
}

/**
 * Pattern: audit trail. Every action an operator takes on a service (a fault switched on or off, a dead letter
 * replayed, a group's positions reset) is sent to audit as `operator.action` on the `operator-actions` exchange,
 * with the service's own account, BEFORE the action is carried out: `record` resolves once the broker has confirmed
 * the record, and throws a 503 (`publishFailure`) otherwise, so an action the trail would not show is not done.
 * (Audit checks that the service a record names is the account that sent it: a service cannot write another's.)
 */
export class OperatorActions {
  constructor(
    private readonly amqp: AmqpClient,
    private readonly service: string,
    private readonly logger: MessagingLogger,
  ) {}

  async record(caller: Pick<Caller, 'subject'>, action: OperatorAction): Promise<void> {
    const envelope = OperatorActionTaken.create(
      {
        action: action.action,
        operator: caller.subject,
        service: this.service,
        ...(action.target === undefined ? {} : { target: action.target }),
        details: JSON.stringify(action.details ?? {}).slice(0, 4_000),
      },
      { correlationId: newMessageId() },
    );
    await this.amqp.publish(Exchanges.operatorActions, action.action, envelope).catch(publishFailure);
    this.logger.warn(
      { operator: caller.subject, action: action.action, target: action.target, messageId: envelope.messageId },
      `operator action ${action.action} by ${caller.subject}`,
    );
  }
}
