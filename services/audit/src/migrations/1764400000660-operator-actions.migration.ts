import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit trail of operators' actions (`operator.action` events from every service). */
export class OperatorActions1764400000660 implements MigrationInterface {
  name = 'OperatorActions1764400000660';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE operator_actions (
      message_id uuid PRIMARY KEY,
      action text NOT NULL,
      operator text NOT NULL,
      service text NOT NULL,
      target text,
      details jsonb NOT NULL,
      occurred_at timestamptz NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('CREATE INDEX operator_actions_newest ON operator_actions (occurred_at DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE operator_actions');
  }
}
