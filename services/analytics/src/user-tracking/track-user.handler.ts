import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { UserRegistered } from '@am/contracts';
import type { MessageContext } from '@am/messaging';

@Controller()
export class TrackUserHandler {
  @EventPattern<string>(UserRegistered.type)
  async registered(@Payload() event: UserRegistered, @Ctx() ctx: MessageContext): Promise<void> {
    await ctx.manager.query(
      'INSERT INTO registered_users (user_id, registered_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [event.data.userId, event.occurredAt],
    );
  }
}
