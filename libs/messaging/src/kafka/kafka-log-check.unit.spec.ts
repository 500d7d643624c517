import { describe, expect, it } from 'vitest';
import { foreignLogReason, type KafkaLogFacts } from './kafka-log-check.js';

const log: KafkaLogFacts = {
  clusterId: 'here',
  partitions: [
    { partition: 0, low: 0n, high: 40n },
    { partition: 1, low: 10n, high: 12n },
  ],
};

describe('whether stored positions belong to the log a group is about to read', () => {
  it('accepts positions within the log, at its end, or none at all', () => {
    expect(foreignLogReason(log, 'here', [{ partition: 0, nextOffset: 40n }])).toBeUndefined();
    expect(foreignLogReason(log, undefined, [{ partition: 1, nextOffset: 11n }])).toBeUndefined();
    expect(foreignLogReason(log, 'here', [])).toBeUndefined();
  });

  it('refuses positions of another cluster, past the end of a partition, or of a partition that does not exist', () => {
    expect(foreignLogReason(log, 'there', [])).toMatch(/cluster there.*cluster here/);
    expect(foreignLogReason(log, 'here', [{ partition: 1, nextOffset: 13n }])).toMatch(/past the log's end 12/);
    expect(foreignLogReason(log, 'here', [{ partition: 7, nextOffset: 1n }])).toMatch(/partition 7.*does not exist/);
  });
});
