import { BadRequestException } from '@nestjs/common';
import { FaultRequest, PoisonRequest, SERVICES, parseRequest, type ServiceName } from '@am/messaging';
import type { FaultEntry, PoisonDestinationEntry, ServiceFaults } from './snapshot.js';
import type { Upstream } from './upstream.js';

/**
 * The fault buttons' input, checked by the console before it calls a service: the service is one of the six, the
 * fault is one the services accept (the same schema, libs/messaging/src/faults/fault-switches.ts), the id a UUID. What
 * only the service can tell (faults not allowed there, a source it does not consume) it answers itself.
 */
export function parseService(raw: unknown): ServiceName {
  if (typeof raw !== 'string' || !(SERVICES as readonly string[]).includes(raw))
    throw new BadRequestException(`service must be one of ${SERVICES.join(', ')}`);
  return raw as ServiceName;
}

/** `POST /api/faults`'s body: `{service, ...the fault}`; the fault as the service's `POST /faults` takes it. */
export function parseFaultBody(body: unknown): { service: ServiceName; request: FaultRequest } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('the body must be a JSON object: {service, kind, ...}');
  const { service, ...fault } = body as Record<string, unknown>;
  return { service: parseService(service), request: parseRequest(FaultRequest, fault) };
}

/** `POST /api/faults/poison`'s body: `{service, destination, variant}`; the rest as the service's `POST /faults/poison`. */
export function parsePoisonBody(body: unknown): { service: ServiceName; request: PoisonRequest } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('the body must be a JSON object: {service, destination, variant}');
  const { service, ...poison } = body as Record<string, unknown>;
  return { service: parseService(service), request: parseRequest(PoisonRequest, poison) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A fault's id, as the service made it (a UUID). */
export function parseFaultId(raw: unknown): string {
  if (typeof raw !== 'string' || !UUID.test(raw)) throw new BadRequestException('a fault id is a UUID');
  return raw;
}

/** A service's `GET /faults` answer as the faults view shows it; one that did not answer (or refused) is marked. */
export function serviceFaults(service: string, answer: Upstream<unknown> | { error: string }): ServiceFaults {
  const none = {
    service,
    answered: false,
    allowed: false,
    sources: [],
    stoppable: [],
    poisonDestinations: [],
    faults: [],
  };
  if ('error' in answer) return { ...none, error: answer.error };
  const body = answer.body as
    | {
        allowed?: unknown;
        sources?: unknown;
        stoppable?: unknown;
        poisonDestinations?: unknown;
        faults?: unknown;
        reason?: unknown;
      }
    | undefined;
  const strings = (list: unknown) =>
    Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
  if (answer.status !== 200 || typeof body !== 'object' || body === null)
    return { ...none, error: `answered ${answer.status}${typeof body?.reason === 'string' ? `: ${body.reason}` : ''}` };
  return {
    service,
    answered: true,
    allowed: body.allowed === true,
    sources: strings(body.sources),
    stoppable: strings(body.stoppable),
    poisonDestinations: Array.isArray(body.poisonDestinations)
      ? (body.poisonDestinations as PoisonDestinationEntry[])
      : [],
    faults: Array.isArray(body.faults) ? (body.faults as FaultEntry[]) : [],
  };
}
