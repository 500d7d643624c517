/** Peer: Nest's built-in RMQ transport with manual acknowledgement (noAck: false), ack after the work. */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, RmqContext, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { Channel, Message } from 'amqplib';
import { PeerStats, fixedWork, required, servePeer } from './work.js';

const stats = new PeerStats();

@Controller()
class BenchHandler {
  @EventPattern<string>('bench')
  handle(@Payload() data: { sentAt: number }, @Ctx() ctx: RmqContext): void {
    fixedWork();
    stats.record(data.sentAt);
    (ctx.getChannelRef() as Channel).ack(ctx.getMessage() as Message);
  }
}

@Module({ controllers: [BenchHandler] })
class BenchModule {}

const app = await NestFactory.createMicroservice<MicroserviceOptions>(BenchModule, {
  transport: Transport.RMQ,
  options: {
    urls: [required('BENCH_AMQP_URL')],
    queue: required('BENCH_QUEUE'),
    noAck: false,
    prefetchCount: Number(required('BENCH_PREFETCH')),
    queueOptions: { durable: true },
  },
  logger: ['error', 'warn'],
});
await app.listen();
servePeer(stats, () => app.close());
