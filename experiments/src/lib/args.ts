/** `--name value` and `--flag` options over defaults; numbers stay numbers. */
export function parseArgs<T extends Record<string, number | boolean | string>>(
  defaults: T,
  argv = process.argv.slice(2),
): T {
  const result: Record<string, number | boolean | string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [rawName, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const name = rawName.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(name in defaults))
      throw new Error(`unknown option --${rawName}; options: ${Object.keys(defaults).join(', ')}`);
    if (typeof defaults[name] === 'boolean') {
      result[name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    if (typeof defaults[name] === 'string') {
      result[name] = inline ?? argv[++i] ?? '';
      continue;
    }
    const value = Number(inline ?? argv[++i]);
    if (!Number.isFinite(value)) throw new Error(`--${rawName} needs a number`);
    result[name] = value;
  }
  return result as T;
}
