/** The bench's isolated world (its own vhost, topic prefix and databases), provisioned like the test tiers do. */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Queues, type KafkaClient } from '@am/messaging';
import { newRunId, provisionWorld, testEnv, type TestEnv } from '@am/testing';

export interface World {
  env: TestEnv;
  kafka: KafkaClient;
  amqp: ChannelModel;
  publisher: ConfirmChannel;
  teardown(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const runId = `bench${newRunId()}`;
  process.env.TEST_RUN_ID = runId;
  const env = testEnv(runId);
  // The intake bench pushes far more than the load-leveling queue's 50k bound into it (no worker drains it
  // meanwhile): raise the bound for this vhost only, through the provisioner's own policy knob.
  const world = await provisionWorld(env, {
    queuePolicies: { [Queues.orderProcessing]: { 'max-length': 10_000_000 } },
  });
  const kafka = world.kafka;
  const connection = await amqp.connect(env.adminAmqpUrl);
  const publisher = await connection.createConfirmChannel();
  return {
    env,
    kafka,
    amqp: connection,
    publisher,
    async teardown() {
      await connection.close().catch(() => undefined);
      await world.teardown();
    },
  };
}

/** Publishes `bodies` persistently with confirms, `window` unconfirmed at most. */
export async function publishAll(
  channel: ConfirmChannel,
  queue: string,
  count: number,
  body: (i: number) => Buffer,
  window = 1_000,
): Promise<void> {
  let inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    inFlight.push(
      new Promise<void>((resolve, reject) =>
        channel.publish('', queue, body(i), { persistent: true, contentType: 'application/json' }, (error: unknown) =>
          error ? reject(new Error(`publish to ${queue} was refused`)) : resolve(),
        ),
      ),
    );
    if (inFlight.length >= window) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
}
