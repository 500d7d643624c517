import { AdvancedConsoleLogger, type ObjectLiteral, type QueryRunner } from 'typeorm';

let roundTrips = 0;

/**
 * Statements this process has sent to PostgreSQL so far: each is one round trip (the driver sends one statement and
 * waits for its answer; `START TRANSACTION` and `COMMIT` count too). Read by the service's `/metrics`
 * (`db_round_trips_total`) and by the bench, which divides it by the sagas completed.
 */
export function databaseRoundTrips(): number {
  return roundTrips;
}

/** Counts statements sent outside TypeORM (the outbox relay's own session). */
export function countDatabaseRoundTrip(): void {
  roundTrips += 1;
}

/**
 * TypeORM's console logger (errors only, as before) that counts every statement it is told about: TypeORM calls
 * `logQuery` for each statement a query runner sends, whatever the logging options say.
 */
export class RoundTripCountingLogger extends AdvancedConsoleLogger {
  override logQuery(query: string, parameters?: unknown[] | ObjectLiteral, queryRunner?: QueryRunner): void {
    roundTrips += 1;
    super.logQuery(query, parameters, queryRunner);
  }
}
