import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// No credential is committed: every tracked file is scanned for private keys, cloud and VCS tokens, bearer tokens
// (JWTs), and passwords in connection URLs other than variables and placeholders (there are no default passwords:
// compose requires each, natively each is the machine's own). The keys that sign tokens live in .run/keys (ignored by git) and in compose volumes.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const PATTERNS: [string, RegExp][] = [
  ['private key', /-----BEGIN (?:RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/],
  ['AWS access key', /\bAKIA[0-9A-Z]{16}\b/],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ['Slack token', /\bxox[baprs]-[A-Za-z0-9-]{10,}/],
  ['JWT', /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/],
];

/** user:password@ in a URL, unless the password is a placeholder or a variable. */
const URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@'"`]+:([^\s/@'"`]+)@/gi;
const allowedPassword = (p: string) =>
  /^\\?\$[{(]/.test(p) || // a variable or template placeholder (Kubernetes: $(NAME))
  /^\$[A-Z_]/.test(p) ||
  /^(p|x|password|pass|secret|\*+|\.\.\.|<[^>]+>)$/i.test(p); // an example

describe('the repository', () => {
  it('holds no credential in any tracked file', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const found: string[] = [];
    for (const file of files) {
      if (file === 'tests/security/secret-scan.unit.spec.ts') continue;
      const path = `${ROOT}${file}`;
      let text: string;
      try {
        if (statSync(path).size > 2_000_000) continue;
        text = readFileSync(path, 'utf8');
      } catch {
        continue; // deleted in the working tree
      }
      for (const [what, pattern] of PATTERNS) if (pattern.test(text)) found.push(`${file}: ${what}`);
      for (const match of text.matchAll(URL_PASSWORD)) {
        if (!allowedPassword(match[1]!)) found.push(`${file}: password in a URL (${match[0].slice(0, 60)})`);
      }
    }
    expect(found).toEqual([]);
  });
});
