import { Catch, HttpException, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';

/**
 * Lets a message handler's error reach the transport as it was thrown. Nest's default RPC filter would turn it
 * into `{ status: 'error', message: 'Internal server error' }`, and the retry path would lose the error's name
 * and message (and with them the reason written into the dead letter's headers). HTTP errors keep Nest's
 * ordinary handling, plus a `Retry-After` header on a 503 that carries one.
 */
@Catch()
export class RethrowRpcErrorsFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    // Backpressure: a 503 says when to come back (see publishFailure).
    if (exception instanceof HttpException && exception.getStatus() === Number(HttpStatus.SERVICE_UNAVAILABLE)) {
      const body = exception.getResponse() as { retryAfterSeconds?: number };
      if (body.retryAfterSeconds !== undefined) {
        host
          .switchToHttp()
          .getResponse<{ setHeader(name: string, value: string): void }>()
          .setHeader('Retry-After', String(body.retryAfterSeconds));
      }
    }
    super.catch(exception, host);
  }
}
