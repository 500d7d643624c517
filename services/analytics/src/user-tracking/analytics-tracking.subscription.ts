import { MessageCatalog, userEvents } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/** Analytics' own queue on the `user-events` fanout. */
export const analyticsTrackingSubscription = {
  subscription: defineSubscription({ queue: Queues.analyticsTracking, prefetch: 20 }),
  catalog: new MessageCatalog([...userEvents]),
};
