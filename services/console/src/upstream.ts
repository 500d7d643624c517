import { HttpException, Inject, Injectable } from '@nestjs/common';
import type { ConsoleConfig } from './console-config.js';

export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');

/** An upstream answer: its status and parsed body. */
export interface Upstream<T> {
  status: number;
  body: T;
}

/**
 * Calls the services' operator routes for the page, with the viewer's own token: the control room holds no
 * credentials of its own for them, so it can show nothing its viewer could not read directly (no confused deputy).
 */
@Injectable()
export class Services {
  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {}

  async get<T>(service: keyof ConsoleConfig['services'], path: string, authorization: string): Promise<Upstream<T>> {
    return this.call<T>('GET', service, path, authorization);
  }

  /**
   * One request to a service (a JSON body when given); its answer whatever its status; 502 when it does not answer
   * within `timeoutMs`.
   */
  async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    service: keyof ConsoleConfig['services'],
    path: string,
    authorization: string,
    body?: unknown,
    timeoutMs = 3_000,
  ): Promise<Upstream<T>> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.config.services[service]), {
        method,
        headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new HttpException(
        { statusCode: 502, error: 'bad_gateway', reason: `${service} did not answer: ${(error as Error).message}` },
        502,
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T };
  }

  /** `get`, and the upstream's own refusal passed on as it was (a 401 stays a 401); its failure as a 502. */
  async read<T>(service: keyof ConsoleConfig['services'], path: string, authorization: string): Promise<T> {
    return passOn(service, await this.get<T>(service, path, authorization));
  }
}

/**
 * An upstream answer as the console's own: its body when it succeeded, its refusal (4xx) with its status and body as
 * they were, its failure (5xx) as a 502 saying which service answered what.
 */
export function passOn<T>(service: string, answer: Upstream<T>): T {
  if (answer.status >= 500)
    throw new HttpException(
      { statusCode: 502, error: 'bad_gateway', reason: `${service} answered ${answer.status}` },
      502,
    );
  if (answer.status >= 400)
    throw new HttpException(
      typeof answer.body === 'object' && answer.body !== null
        ? answer.body
        : { statusCode: answer.status, reason: String(answer.body ?? '') },
      answer.status,
    );
  return answer.body;
}
