import { Migration } from '@mikro-orm/migrations';

// The unsent list's "missing address" takes SPEC 5's name, address_not_specified (the
// reason error-reasons.ts and the classification already use): rows stored before say it too.
export class Migration20261202140000_exclusion_reason_vocabulary extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `update "run_exclusion" set "reason" = 'address_not_specified' where "reason" = 'missing_address';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `update "run_exclusion" set "reason" = 'missing_address' where "reason" = 'address_not_specified';`,
    );
  }
}
