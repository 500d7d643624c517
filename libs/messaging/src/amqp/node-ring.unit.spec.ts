import { describe, expect, it } from 'vitest';
import { NodeRing, parseAmqpNodes } from './node-ring.js';

describe('the RabbitMQ nodes a client fails over between', () => {
  it('parses host:port lists, IPv6 in brackets, with spaces around the commas', () => {
    expect(parseAmqpNodes('127.0.0.1:5701, 127.0.0.1:5702,rabbitmq-3:5672')).toEqual([
      { host: '127.0.0.1', port: 5701 },
      { host: '127.0.0.1', port: 5702 },
      { host: 'rabbitmq-3', port: 5672 },
    ]);
    expect(parseAmqpNodes('[::1]:5672')).toEqual([{ host: '::1', port: 5672 }]);
  });

  it('refuses an empty list, an entry without a valid port, and a node named twice, naming the entry', () => {
    expect(() => parseAmqpNodes(' , ')).toThrow(/at least one host:port/);
    expect(() => parseAmqpNodes('127.0.0.1')).toThrow(/"127\.0\.0\.1"/);
    expect(() => parseAmqpNodes('a:5701,b:70000')).toThrow(/"b:70000"/);
    expect(() => parseAmqpNodes('a:0')).toThrow(/"a:0"/);
    expect(() => parseAmqpNodes('a:5701,a:5701')).toThrow(/a:5701 twice/);
  });

  it('starts at the first node and moves round the ring, one node per failure', () => {
    const ring = new NodeRing(parseAmqpNodes('a:1,b:2,c:3'));
    expect(ring.current).toEqual({ host: 'a', port: 1 });
    expect([ring.advance().host, ring.advance().host, ring.advance().host, ring.advance().host]).toEqual([
      'b',
      'c',
      'a',
      'b',
    ]);
    const single = new NodeRing([{ host: 'only', port: 5672 }]);
    expect(single.advance()).toEqual({ host: 'only', port: 5672 });
    expect(() => new NodeRing([])).toThrow(/at least one node/);
  });
});
