/** Peer: @golevelup/nestjs-rabbitmq, @RabbitSubscribe (acks after the handler returns), same prefetch. */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RabbitMQModule, RabbitSubscribe } from '@golevelup/nestjs-rabbitmq';
import { PeerStats, fixedWork, required, servePeer } from './work.js';

const stats = new PeerStats();

@Injectable()
class BenchHandler {
  @RabbitSubscribe({ queue: required('BENCH_QUEUE'), createQueueIfNotExists: false })
  async handle(message: { sentAt: number }): Promise<void> {
    fixedWork();
    stats.record(message.sentAt);
  }
}

@Module({
  imports: [
    RabbitMQModule.forRoot({
      uri: required('BENCH_AMQP_URL'),
      prefetchCount: Number(required('BENCH_PREFETCH')),
      connectionInitOptions: { wait: true },
    }),
  ],
  providers: [BenchHandler],
})
class BenchModule {}

const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
await app.init();
servePeer(stats, () => app.close());
