import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';

/** An account id in a URL: the user id it was opened for (the same bounds as the contracts' `userId`). */
const AccountId = z.string().min(1).max(64);

/** Validates the `:userId` route parameter; a bad one answers 400 and touches nothing. */
export function parseAccountId(value: unknown): string {
  const result = AccountId.safeParse(value);
  if (!result.success) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: result.error.issues.map((i) => `userId: ${i.message}`),
    });
  }
  return result.data;
}
