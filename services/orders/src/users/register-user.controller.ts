import { randomUUID } from 'node:crypto';
import { Body, ConflictException, Controller, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DEFAULT_LOCALE, UserRegistered, splitName } from '@am/contracts';
import { Access, Exchanges, TokenIssuer, parseRequest, toExchange } from '@am/messaging';
import { addToOutbox } from '@am/persistence';
import { KnownUsers } from './known-users.js';
import { RegisterUserRequest } from './register-user.request.js';

/**
 * `POST /users` (open to everyone; answers the new customer's id and bearer token): stores the user and, in the same transaction, puts `user.registered` in the outbox for the
 * `user-events` fanout (pattern: transactional outbox; every subscriber gets its own copy). `{email, name}`
 * still works: the name is split into first and last name by the rule the v1 upcaster uses.
 */
@Controller('users')
export class RegisterUserController {
  constructor(
    private readonly db: DataSource,
    private readonly users: KnownUsers,
    private readonly tokens: TokenIssuer,
  ) {}

  @Post()
  @Access('public')
  async register(@Body() body: unknown): Promise<{ userId: string; token: string }> {
    const request = parseRequest(RegisterUserRequest, body);
    const { email } = request;
    const [firstName, lastName] =
      request.firstName !== undefined ? [request.firstName, request.lastName ?? ''] : splitName(request.name ?? '');
    const name = request.name ?? [firstName, lastName].filter(Boolean).join(' ');
    const locale = request.locale ?? DEFAULT_LOCALE;
    const userId = randomUUID();
    // `user.registered` v2 (docs/schema-evolution.md): consumers read v1 too, so they were upgraded first.
    const event = UserRegistered.create({ userId, email, firstName, lastName, locale }, { correlationId: userId });
    await this.db.transaction(async (manager) => {
      const rows: unknown[] = await manager.query(
        'INSERT INTO users (id, email, name) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING RETURNING id',
        [userId, email.toLowerCase(), name],
      );
      if (rows.length === 0) throw new ConflictException(`a user with e-mail ${email} exists already`);
      const destination = toExchange(Exchanges.userEvents);
      await addToOutbox(manager, [{ destination, messageId: event.messageId, type: event.type, payload: event }]);
    });
    this.users.remember(userId);
    // The customer's bearer token: they place orders and read their account, orders and e-mails with it.
    const token = await this.tokens.issue({ role: 'customer', subject: userId, email: email.toLowerCase() });
    return { userId, token };
  }
}
