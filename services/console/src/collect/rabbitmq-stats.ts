import type { QueuePoint } from '../snapshot.js';

/** The control room's account on RabbitMQ's management API (the `monitoring` tag; no permission on any resource). */
export interface RabbitStatsAccess {
  managementUrl: string;
  user: string;
  password: string;
  vhost: string;
}

interface QueueInfo {
  name: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: {
    publish_details?: { rate: number };
    deliver_get_details?: { rate: number };
    ack_details?: { rate: number };
  };
}

const COLUMNS = [
  'name',
  'messages_ready',
  'messages_unacknowledged',
  'consumers',
  'message_stats.publish_details.rate',
  'message_stats.deliver_get_details.rate',
  'message_stats.ack_details.rate',
].join(',');

/**
 * Every queue of the vhost as the broker sees it: depth (ready, unacknowledged), consumers, and the broker's own
 * publish, deliver and ack rates (messages per second, averaged by the management plugin over its sample interval).
 */
export async function readQueues(access: RabbitStatsAccess, timeoutMs = 1_500): Promise<QueuePoint[]> {
  const url = new URL(`/api/queues/${encodeURIComponent(access.vhost)}`, access.managementUrl);
  url.searchParams.set('columns', COLUMNS);
  url.searchParams.set('disable_stats', 'false');
  const response = await fetch(url, {
    headers: { authorization: `Basic ${Buffer.from(`${access.user}:${access.password}`).toString('base64')}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`RabbitMQ management API answered ${response.status}: ${await response.text()}`);
  const queues = (await response.json()) as QueueInfo[];
  return queues
    .map((q) => ({
      name: q.name,
      ready: q.messages_ready ?? 0,
      unacked: q.messages_unacknowledged ?? 0,
      consumers: q.consumers ?? 0,
      publish: round(q.message_stats?.publish_details?.rate),
      deliver: round(q.message_stats?.deliver_get_details?.rate),
      ack: round(q.message_stats?.ack_details?.rate),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const round = (rate: number | undefined) => Math.round((rate ?? 0) * 10) / 10;
