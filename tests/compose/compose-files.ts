import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';

/** Reading the compose stack's files for the offline checks in this folder. */

export const root = new URL('../../', import.meta.url);
export const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
export const readJson = <T>(path: string) => JSON.parse(read(path)) as T;
/** YAML as compose reads it: merge keys (`<<: *anchor`) resolved. */
export const readYaml = <T>(path: string) => parse(read(path), { merge: true }) as T;

export interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}

export interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  profiles?: string[];
  restart?: string;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [extension: `x-${string}`]: unknown;
}

/**
 * docker-compose.yml as compose reads it with no `.env`: published ports' `${NAME_HOST_PORT:-N}` resolved to N
 * (tests/compose/compose.unit.spec.ts checks that every published port can be moved that way).
 */
export const compose = () => {
  const file = readYaml<ComposeFile>('docker-compose.yml');
  for (const service of Object.values(file.services)) {
    service.ports = service.ports?.map((port) => port.replace(/\$\{[A-Z0-9_]+_HOST_PORT:-(\d+)\}/g, '$1'));
  }
  return file;
};

/** The folders under services/: one per app (the six services and the console). */
export const serviceFolders = () =>
  readdirSync(new URL('services/', root), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

/** `${NAME:-default}` → { name, fallback }; anything else → undefined. */
export function interpolation(
  value: string,
): { name: string; fallback: string | undefined; required: boolean } | undefined {
  const match = /^\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}$/.exec(value);
  if (!match) return undefined;
  const required = match[2] === ':?';
  return { name: match[1]!, fallback: required ? undefined : match[3], required };
}

/** How docker-compose.yml takes a variable it has no default for: compose stops with the message while it is unset. */
export const requiredVariable = (name: string) => `\${${name}:?${name} is not set (run ./stack compose-env)}`;

/** Every `${NAME...}` a text interpolates. */
export const interpolatedNames = (text: string) =>
  [...text.matchAll(/\$\{([A-Z0-9_]+)(?::?[-?+][^}]*)?\}/g)].map((m) => m[1]!);
