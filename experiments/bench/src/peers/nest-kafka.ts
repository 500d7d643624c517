/** Peer: Nest's built-in Kafka transport (kafkajs underneath, auto-commit), same topic and handler work. */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { PeerStats, fixedWork, required, servePeer } from './work.js';

const stats = new PeerStats();
const topic = `${required('BENCH_KAFKA_PREFIX')}${required('BENCH_TOPIC')}`;

@Controller()
class BenchHandler {
  @EventPattern<string>(topic)
  handle(@Payload() data: { sentAt: number }): void {
    fixedWork();
    stats.record(data.sentAt);
  }
}

@Module({ controllers: [BenchHandler] })
class BenchModule {}

const app = await NestFactory.createMicroservice<MicroserviceOptions>(BenchModule, {
  transport: Transport.KAFKA,
  options: {
    client: {
      clientId: 'bench-peer-nest',
      brokers: required('BENCH_KAFKA_BROKERS').split(','),
      sasl: {
        mechanism: 'scram-sha-256',
        username: required('BENCH_KAFKA_USERNAME'),
        password: required('BENCH_KAFKA_PASSWORD'),
      },
    },
    consumer: { groupId: required('BENCH_GROUP') },
    subscribe: { fromBeginning: true },
    postfixId: '',
  },
  logger: ['error', 'warn'],
});
await app.listen();
servePeer(stats, () => app.close());
