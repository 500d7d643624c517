import { readFileSync, readdirSync } from 'node:fs';
import { MessageCatalog, type MessageDefinition } from '@am/contracts';
import { ROOT, consumersOf, type Consumption } from './consumers.js';

/** A saved sample message: `fixtures/messages/<type>.v<version>.json`. */
export interface Fixture {
  file: string;
  type: string;
  version: number;
  body: string;
}

export const FIXTURES_DIR = 'fixtures/messages';

export function loadFixtures(): Fixture[] {
  return readdirSync(`${ROOT}${FIXTURES_DIR}`)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const match = /^(.+)\.v(\d+)\.json$/.exec(name);
      if (!match) throw new Error(`${FIXTURES_DIR}/${name}: expected <type>.v<version>.json`);
      return {
        file: `${FIXTURES_DIR}/${name}`,
        type: match[1]!,
        version: Number(match[2]),
        body: readFileSync(`${ROOT}${FIXTURES_DIR}/${name}`, 'utf8'),
      };
    });
}

/**
 * Backward compatibility: every saved sample must still parse with the current definitions. Each problem names
 * the sample, the type, the failing field (from the catalog's reason) and the services whose consumers would
 * now dead-letter such a message.
 */
export function checkFixtures(
  fixtures: readonly Fixture[],
  definitions: readonly MessageDefinition[],
  consumptions: readonly Consumption[],
): string[] {
  const catalog = new MessageCatalog(definitions);
  const problems: string[] = [];
  for (const fixture of fixtures) {
    const consumers = consumersOf(fixture.type, consumptions);
    const affected = `consumers affected: ${consumers.join(', ') || 'none yet (no subscription reads it)'}`;
    const parsed = catalog.parse(fixture.body);
    if (!parsed.ok) {
      problems.push(
        `${fixture.file} (${fixture.type} v${fixture.version}) no longer parses: ${parsed.reason}; ${affected}`,
      );
      continue;
    }
    for (const consumer of consumptions.filter((c) => c.catalog.has(fixture.type))) {
      const own = consumer.catalog.parse(fixture.body);
      if (!own.ok) {
        problems.push(
          `${fixture.file} (${fixture.type} v${fixture.version}) is refused by ${consumer.service} (${consumer.endpoint}): ${own.reason}`,
        );
      }
    }
  }
  return problems;
}

/** Adds a field nobody knows to every object in a JSON value: what a newer producer might send. */
export function withUnknownFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withUnknownFields);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = { addedLater: { note: 'a field from a newer producer' } };
  for (const [key, field] of Object.entries(value)) copy[key] = withUnknownFields(field);
  return copy;
}
