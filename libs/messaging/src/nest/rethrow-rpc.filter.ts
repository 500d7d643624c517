import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';

/**
 * Lets a message handler's error reach the transport as it was thrown. Nest's default RPC filter would turn it
 * into `{ status: 'error', message: 'Internal server error' }`, and the retry path would lose the error's name
 * and message (and with them the reason written into the dead letter's headers). HTTP errors keep Nest's
 * ordinary handling.
 */
@Catch()
export class RethrowRpcErrorsFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    super.catch(exception, host);
  }
}
