import { Topics, topics } from '@am/messaging';
import { decide } from './account.decide.js';
import type { AccountCommand, AccountState } from './account.events.js';
import { evolve, initialAccountState } from './account.evolve.js';

/** The commands the diagram follows: an account opened, money in, a payment, and one the balance cannot cover. */
const story: { command: AccountCommand; from: string }[] = [
  { command: { type: 'OpenAccount', data: { accountId: 'a', name: 'Alice' } }, from: 'user.registered' },
  { command: { type: 'Deposit', data: { accountId: 'a', amount: 1_000 } }, from: 'POST /accounts/:id/deposits' },
  { command: { type: 'Withdraw', data: { accountId: 'a', amount: 750, orderId: 'o1' } }, from: 'payment.process' },
  { command: { type: 'Withdraw', data: { accountId: 'a', amount: 500, orderId: 'o2' } }, from: 'payment.process' },
];

const cents = (amount: number) => (amount / 100).toFixed(2);
const amountOf = (data: object) =>
  'amount' in data && typeof data.amount === 'number' ? ` ${cents(data.amount)}` : '';
const balance = (state: AccountState) => (state.exists ? cents(state.balance) : 'none');

/**
 * Event sourcing in payments as a Mermaid sequence diagram, found by running the account's own `decide` and `evolve`
 * over four commands: each command reads the stream, decides, and appends its events with the stream's version as
 * the expected one, the outbox rows for `account-events` in the same transaction; a refusal appends nothing.
 */
export function accountSequenceMermaid(): string {
  const topic = topics.find((t) => t.name === Topics.accountEvents)!;
  const lines = [
    'sequenceDiagram',
    '  participant caller as a message or a request',
    '  participant payments',
    '  participant store as account_events (the stream of account a)',
    `  participant topic as ${topic.name} (topic, via the outbox)`,
    ...topic.groups.map((g) => `  participant ${g.groupId.replace(/-/g, '_')} as ${g.consumer} (group ${g.groupId})`),
  ];
  let state = initialAccountState;
  let version = 0;
  for (const { command, from } of story) {
    lines.push(
      `  caller->>payments: ${command.type}${amountOf(command.data)} (from ${from})`,
      `  payments->>store: read the stream: version ${version}, balance ${balance(state)}`,
    );
    const decision = decide(command, state);
    if (!decision.ok) {
      lines.push(`  Note over payments: decide refuses: ${decision.error.code}, nothing is appended`);
      continue;
    }
    for (const event of decision.events) {
      state = evolve(state, event);
      version += 1;
      lines.push(
        `  payments->>store: append ${event.type}${amountOf(event.data)} as version ${version} (expected ${version - 1}), with its outbox row`,
      );
    }
    lines.push(
      `  Note over store: balance ${balance(state)} = the events folded by evolve`,
      `  store-->>topic: the outbox relay publishes, keyed by account id`,
      ...topic.groups.map(
        (g) => `  topic->>${g.groupId.replace(/-/g, '_')}: ${decision.events.map((e) => e.type).join(', ')}`,
      ),
    );
  }
  lines.push(
    '  Note over payments,store: two writers of one stream: the second append finds the version taken and retries',
  );
  return lines.join('\n');
}
