import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/**
 * Is this path segment a dead letter id? Positive decimal integers of at most 18 digits: always inside
 * PostgreSQL's bigint, so a long number is a 400 here rather than an "out of range" error from the database.
 */
export function isDeadLetterId(raw: string): boolean {
  return /^[1-9][0-9]{0,17}$/.test(raw);
}

/** Validates the `:id` of the dead letter routes; the id stays a string (a bigint is not a safe JS number). */
@Injectable()
export class DeadLetterIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isDeadLetterId(value))
      throw new BadRequestException(`dead letter id must be a positive integer, got "${value}"`);
    return value;
  }
}
