/**
 * The token keys and tokens from the command line (`./stack keys`, `./stack rotate-keys`, `./stack token ...`):
 *   node libs/messaging/dist/auth/cli.js keys                      create the key pair if there is none
 *   node libs/messaging/dist/auth/cli.js rotate                    replace it (restart the services afterwards)
 *   node libs/messaging/dist/auth/cli.js token <role> [subject] [email]   print a bearer token
 * The keys are in AUTH_KEYS_DIR (default .run/keys under the working directory).
 */
import path from 'node:path';
import { ensureAuthKeys, rotateAuthKeys } from './keys.js';
import { ROLES, TokenIssuer, type Role } from './tokens.js';

const dir = path.resolve(process.env.AUTH_KEYS_DIR ?? '.run/keys');
const [command, ...args] = process.argv.slice(2);

function usage(): never {
  console.error('usage: cli.js keys | rotate | token <customer|operator|service> [subject] [email]');
  process.exit(2);
}

switch (command) {
  case 'keys': {
    const keys = ensureAuthKeys(dir);
    console.error(`auth keys: ${keys.created ? 'created' : 'present'} in ${dir}`);
    break;
  }
  case 'rotate': {
    const keys = rotateAuthKeys(dir);
    console.error(
      `auth keys: new pair in ${dir}${keys.previous ? ` (the old one kept in ${keys.previous})` : ''}; restart the ` +
        'services: tokens signed with the old key are refused from then on',
    );
    break;
  }
  case 'token': {
    const [role, subject, email] = args;
    if (!role || !(ROLES as readonly string[]).includes(role)) usage();
    if (role === 'customer' && !subject) {
      console.error('a customer token names the customer: token customer <userId> [email]');
      process.exit(2);
    }
    ensureAuthKeys(dir);
    const token = await TokenIssuer.fromDir(dir).issue({
      role: role as Role,
      subject: subject ?? `${role}-${process.env.USER ?? 'cli'}`,
      ...(email ? { email: email.toLowerCase() } : {}),
    });
    console.log(token);
    break;
  }
  default:
    usage();
}
