import { SERVICES, type Role } from '@am/messaging';

/**
 * Every HTTP route of the six services and the control room, and who may call it: the authorization matrix (docs/security.md). The e2e
 * test calls each route as each kind of caller; a unit test checks that this list and the controllers' `@Access`
 * rules name the same routes.
 */
export type ServiceKey = 'orders' | 'inventory' | 'payments' | 'email' | 'analytics' | 'audit' | 'console';

/** The callers of the matrix: none, the route's own customer, another customer, an operator, a service. */
export type CallerKind = 'none' | 'own' | 'other' | 'operator' | 'service';

export interface RouteRule {
  service: ServiceKey;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route as its controller declares it. */
  route: string;
  /** Who is let through (the route then answers whatever its business answer is). */
  allowed: 'public' | (Role | 'own')[];
  /** How a customer who is not the route's own customer is refused: 403, or 404 where existence is private. */
  otherCustomer?: 403 | 404;
}

export const ROUTES: RouteRule[] = [
  { service: 'orders', method: 'POST', route: '/users', allowed: 'public' },
  { service: 'orders', method: 'POST', route: '/orders', allowed: ['own', 'service'] },
  {
    service: 'orders',
    method: 'GET',
    route: '/orders/:id',
    allowed: ['own', 'operator', 'service'],
    otherCustomer: 404,
  },
  { service: 'orders', method: 'POST', route: '/orders/sync', allowed: ['service'] },
  { service: 'orders', method: 'GET', route: '/sagas', allowed: ['operator'] },
  // A shopper may ask whether a SKU is in stock; it names no customer's data (request/reply to inventory).
  { service: 'orders', method: 'GET', route: '/availability/:sku', allowed: ['customer', 'operator', 'service'] },
  { service: 'inventory', method: 'PUT', route: '/stock/:sku', allowed: ['operator'] },
  { service: 'inventory', method: 'GET', route: '/stock/:sku', allowed: ['customer', 'operator', 'service'] },
  { service: 'inventory', method: 'POST', route: '/reservations', allowed: ['service'] },
  { service: 'inventory', method: 'POST', route: '/reservations/:orderId/release', allowed: ['service'] },
  { service: 'payments', method: 'POST', route: '/payments', allowed: ['service'] },
  { service: 'payments', method: 'POST', route: '/payments/:orderId/refund', allowed: ['service'] },
  { service: 'payments', method: 'GET', route: '/accounts/:userId', allowed: ['own', 'operator', 'service'] },
  { service: 'payments', method: 'GET', route: '/accounts/:userId/events', allowed: ['own', 'operator', 'service'] },
  { service: 'payments', method: 'POST', route: '/accounts/:userId/deposits', allowed: ['own', 'service'] },
  { service: 'email', method: 'GET', route: '/emails', allowed: ['own', 'operator'] },
  { service: 'analytics', method: 'GET', route: '/analytics/summary', allowed: ['operator'] },
  { service: 'analytics', method: 'GET', route: '/analytics/accounts', allowed: ['operator'] },
  { service: 'analytics', method: 'GET', route: '/analytics/order-metrics', allowed: ['operator'] },
  { service: 'analytics', method: 'GET', route: '/analytics/accounts/:accountId', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/audit', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/dead-letters', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/dead-letters/:id', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/dead-letters/:id/content', allowed: ['operator'] },
  { service: 'audit', method: 'POST', route: '/dead-letters/:id/replay', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/dead-letters/:id/replay-plan', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/dead-letter-groups', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/operator-actions', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/dead-letter-groups/:fingerprint', allowed: ['operator'] },
  // Bulk replays: a selection or a group's waiting letters at a rate, with progress, cancel and a warning.
  { service: 'audit', method: 'POST', route: '/dead-letter-replays', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/dead-letter-replays', allowed: ['operator'] },
  { service: 'audit', method: 'GET', route: '/dead-letter-replays/:id', allowed: ['operator'] },
  { service: 'audit', method: 'DELETE', route: '/dead-letter-replays/:id', allowed: ['operator'] },
  // The control room: its page is open (it holds no data), everything it shows needs an operator.
  // The operator's fault switches, on each of the six services (libs/messaging/src/faults/faults.controller.ts).
  ...SERVICES.flatMap((service): RouteRule[] => [
    { service, method: 'GET', route: '/faults', allowed: ['operator'] },
    { service, method: 'POST', route: '/faults', allowed: ['operator'] },
    { service, method: 'DELETE', route: '/faults/:id', allowed: ['operator'] },
    { service, method: 'POST', route: '/faults/poison', allowed: ['operator'] },
  ]),
  // The offset reset of the Kafka groups each service owns (libs/messaging/src/kafka/consumer-groups.controller.ts).
  ...SERVICES.flatMap((service): RouteRule[] => [
    { service, method: 'GET', route: '/consumer-groups', allowed: ['operator'] },
    { service, method: 'GET', route: '/consumer-groups/:group/reset-preview', allowed: ['operator'] },
    { service, method: 'POST', route: '/consumer-groups/:group/reset', allowed: ['operator'] },
  ]),
  { service: 'analytics', method: 'GET', route: '/analytics/rebuild', allowed: ['operator'] },
  { service: 'analytics', method: 'POST', route: '/analytics/rebuild', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/', allowed: 'public' },
  { service: 'console', method: 'GET', route: '/assets/console.css', allowed: 'public' },
  { service: 'console', method: 'GET', route: '/assets/:module', allowed: 'public' },
  { service: 'console', method: 'GET', route: '/session', allowed: ['operator'] },
  { service: 'console', method: 'POST', route: '/session', allowed: ['operator'] },
  { service: 'console', method: 'DELETE', route: '/session', allowed: 'public' },
  { service: 'console', method: 'GET', route: '/api/stream', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/sagas', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/story', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/accounts/:userId', allowed: ['operator'] },
  // The fault buttons: each service's fault switches, called with the viewer's own token.
  { service: 'console', method: 'GET', route: '/api/faults', allowed: ['operator'] },
  { service: 'console', method: 'POST', route: '/api/faults', allowed: ['operator'] },
  { service: 'console', method: 'DELETE', route: '/api/faults/:service/:id', allowed: ['operator'] },
  // The dead-letter workbench: audit's routes, called with the viewer's own token.
  { service: 'console', method: 'GET', route: '/api/dead-letter-groups', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/dead-letter-groups/:id', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/dead-letters/:id', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/dead-letters/:id/replay-plan', allowed: ['operator'] },
  { service: 'console', method: 'POST', route: '/api/dead-letters/:id/replay', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/dead-letter-replays', allowed: ['operator'] },
  { service: 'console', method: 'POST', route: '/api/dead-letter-replays', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/dead-letter-replays/:id', allowed: ['operator'] },
  { service: 'console', method: 'DELETE', route: '/api/dead-letter-replays/:id', allowed: ['operator'] },
  { service: 'console', method: 'POST', route: '/api/faults/poison', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/operator-actions', allowed: ['operator'] },
  // The burst lab: a load-leveling run in a world of its own, started by an operator (with LAB_ALLOWED=1).
  { service: 'console', method: 'GET', route: '/api/lab/runs', allowed: ['operator'] },
  { service: 'console', method: 'POST', route: '/api/lab/runs', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/lab/runs/:id', allowed: ['operator'] },
  // The Offsets view: each group's reset and the analytics rebuild, called with the viewer's own token.
  { service: 'console', method: 'GET', route: '/api/consumer-groups', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/consumer-groups/:group/reset-preview', allowed: ['operator'] },
  { service: 'console', method: 'POST', route: '/api/consumer-groups/:group/reset', allowed: ['operator'] },
  { service: 'console', method: 'GET', route: '/api/analytics/rebuild', allowed: ['operator'] },
  { service: 'console', method: 'POST', route: '/api/analytics/rebuild', allowed: ['operator'] },
];

/** Whether `caller` gets past the route's rule. */
export function admits(rule: RouteRule, caller: CallerKind): boolean {
  if (rule.allowed === 'public') return true;
  switch (caller) {
    case 'none':
      return false;
    case 'own':
      return rule.allowed.includes('own') || rule.allowed.includes('customer');
    case 'other':
      return rule.allowed.includes('customer');
    default:
      return rule.allowed.includes(caller);
  }
}
