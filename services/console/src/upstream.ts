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
    let response: Response;
    try {
      response = await fetch(new URL(path, this.config.services[service]), {
        headers: { authorization },
        signal: AbortSignal.timeout(3_000),
      });
    } catch (error) {
      throw new HttpException(
        { statusCode: 502, error: 'bad_gateway', reason: `${service} did not answer: ${(error as Error).message}` },
        502,
      );
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: body as T };
  }

  /** `get`, and the upstream's own refusal passed on as it was (a 401 stays a 401); its failure as a 502. */
  async read<T>(service: keyof ConsoleConfig['services'], path: string, authorization: string): Promise<T> {
    const answer = await this.get<T>(service, path, authorization);
    // The service's failure is not the console's: 502, saying which service answered what.
    if (answer.status >= 500)
      throw new HttpException(
        { statusCode: 502, error: 'bad_gateway', reason: `${service} answered ${answer.status}` },
        502,
      );
    if (answer.status >= 400) throw new HttpException(answer.body as object, answer.status);
    return answer.body;
  }
}
