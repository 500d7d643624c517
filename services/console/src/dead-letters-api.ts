import { BadRequestException } from '@nestjs/common';

/** A dead letter's id, as audit numbers them: a positive integer of at most 18 digits. */
export function parseDeadLetterId(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,17}$/.test(raw))
    throw new BadRequestException('a dead letter id is a positive integer');
  return raw;
}

/** A bulk replay's id. */
export function parseRunId(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,17}$/.test(raw))
    throw new BadRequestException('a bulk replay id is a positive integer');
  return raw;
}

/** A group of dead letters is named by its failure fingerprint: 12 hex digits. */
export function parseGroupId(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[0-9a-f]{12}$/.test(raw))
    throw new BadRequestException('a group id is its fingerprint: 12 hex digits');
  return raw;
}

/**
 * A JSON object body to pass on to audit, which checks the rest (an edited envelope against its type's schema, a bulk
 * replay's selection and rate): the console refuses only what is not an object. An absent body is an empty one.
 */
export function parseObjectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object');
  return body as Record<string, unknown>;
}
