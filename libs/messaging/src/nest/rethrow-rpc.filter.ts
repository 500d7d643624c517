import { Catch, HttpException, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { classifyFailure, type FailureKind } from '../outage/failure-kind.js';

/**
 * Lets a message handler's error reach the transport as it was thrown. Nest's default RPC filter would turn it
 * into `{ status: 'error', message: 'Internal server error' }`, and the retry path would lose the error's name
 * and message (and with them the reason written into the dead letter's headers). HTTP errors keep Nest's
 * ordinary handling, plus a `Retry-After` header on a 503 that carries one. An HTTP request that fails because
 * a dependency is down (the database restarting) answers 503 with `Retry-After`, not 500: the request was
 * fine, and the same request will work again.
 */
@Catch()
export class RethrowRpcErrorsFilter extends BaseExceptionFilter {
  /** `classify`: the service's (`DependencyBreakers.classify`), which knows the dependencies' ports. */
  constructor(
    applicationRef?: ConstructorParameters<typeof BaseExceptionFilter>[0],
    private readonly classify: (error: unknown) => FailureKind = (error) => classifyFailure(error),
  ) {
    super(applicationRef);
  }

  override catch(thrown: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => thrown);
    let exception = thrown;
    if (!(exception instanceof HttpException)) {
      const failure = this.classify(exception);
      if (failure.kind === 'outage') {
        exception = new HttpException(
          {
            statusCode: 503,
            error: 'Service Unavailable',
            message: `${failure.dependency} is unavailable; try again shortly`,
            retryAfterSeconds: 5,
          },
          HttpStatus.SERVICE_UNAVAILABLE,
        );
      }
    }
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
