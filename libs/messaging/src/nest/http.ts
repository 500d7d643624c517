import { BadRequestException, HttpException, HttpStatus } from '@nestjs/common';
import type { z } from 'zod';
import { BrokerUnavailableError, PublishRejectedError } from '../errors.js';

/**
 * Validates a request body against a strict schema: unknown fields, wrong types and missing fields answer
 * 400 with every problem named by its path, and nothing is changed.
 */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`);
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problems });
  }
  return result.data;
}

/**
 * Turns a failed publish into an HTTP answer: when the broker cannot take work now (no connection, blocked
 * by an alarm, a full queue refusing with a negative confirm) the caller gets a fast 503 with Retry-After,
 * never a hang and never a 202 for work that was not stored.
 */
export function publishFailure(error: unknown, retryAfterSeconds = 1): never {
  if (error instanceof BrokerUnavailableError || error instanceof PublishRejectedError) {
    throw new HttpException(
      { statusCode: 503, error: 'Service Unavailable', message: error.message, retryAfterSeconds },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
  throw error;
}
